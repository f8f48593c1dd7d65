//! A real redis-server for the tests of replicas sharing a replay store.

use std::time::Duration;

/// A real redis-server on a free loopback port, stopped when dropped.
pub(crate) struct Redis {
    pub(crate) child: std::process::Child,
    pub(crate) port: u16,
}

impl Redis {
    /// `None` (and a note) where redis-server is not installed, unless
    /// `REQUIRE_REDIS_FOR_TESTS` says it must be (CI installs it).
    pub(crate) async fn start(extra: &[&str]) -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    std::env::var_os("REQUIRE_REDIS_FOR_TESTS").is_none(),
                    "redis-server is required here: {e}"
                );
                eprintln!("note: redis-server is not installed; the Redis test is skipped ({e})");
                return None;
            }
        };
        super::eventually(Duration::from_secs(10), "redis-server", || {
            std::future::ready(std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        })
        .await;
        Some(Redis { child, port })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
