//! Repeated warnings, rate-limited: a flood of requests that each deserve a
//! warning (throttled guessing, an unreachable key set) makes one line per
//! interval, with the count of the lines it stands for, not one per
//! request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One kind of warning.
pub(crate) struct LogLimit {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogLimit {
    pub(crate) const fn new(every: Duration) -> Self {
        Self {
            every,
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(n)` when a line may be written now; `n` lines were held back
    /// since the last one.
    pub(crate) fn allow(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < self.every => {
                state.1 += 1;
                None
            }
            _ => {
                let held = std::mem::take(&mut state.1);
                state.0 = Some(now);
                Some(held)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_counting_the_rest() {
        let limit = LogLimit::new(Duration::from_secs(3600));
        assert_eq!(limit.allow(), Some(0));
        for _ in 0..1000 {
            assert_eq!(limit.allow(), None);
        }
        let limit = LogLimit::new(Duration::ZERO);
        assert_eq!(limit.allow(), Some(0));
        assert_eq!(limit.allow(), Some(0));
    }
}
