//! The one way a test waits: poll for the exact condition it needs next.

use std::time::{Duration, Instant};

/// Polls the async `f` every 25 ms until it returns `Some`, failing after
/// `timeout`.
pub(crate) async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    timeout: Duration,
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
