//! The time a failed client authentication takes, made the same for
//! every failure. The core already does the same Argon2 *work* for each
//! (see `Registry::failure_work`), but the same work with more memory runs
//! slower (a 64 MiB hash misses the caches a 19 MiB one hits), so a
//! failure is also answered no sooner than the slowest one takes here:
//! each parameter set in the file is measured on this machine when the
//! file is loaded, and the slowest failure actually seen in the last
//! minutes raises the floor further (a busy or noisy machine makes a
//! measurement low).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tollgate_core::{Registry, argon2_run, padding_params};

/// Headroom over the measured slowest failure, for the noise of a busy
/// machine.
const MARGIN: f64 = 1.2;
/// How long the slowest failure seen keeps raising the floor.
const REMEMBER: Duration = Duration::from_secs(600);

/// The floor of a failure's time, and what it was computed from.
#[derive(Default)]
pub(crate) struct FailureFloor {
    nanos: AtomicU64,
    /// The slowest failure seen, and when.
    slowest_seen: Mutex<Option<(Duration, Instant)>>,
    /// Measured time of one run, by (memory KiB, passes, lanes).
    measured: Mutex<HashMap<(u32, u32, u32), Duration>>,
}

impl FailureFloor {
    /// How soon after authentication began a failure may be answered.
    pub(crate) fn floor(&self) -> Duration {
        let measured = Duration::from_nanos(self.nanos.load(Ordering::Relaxed));
        let seen = self.slowest_seen.lock().unwrap_or_else(|p| p.into_inner());
        match *seen {
            Some((took, at)) if at.elapsed() < REMEMBER => measured.max(took),
            _ => measured,
        }
    }

    /// Notes how long a failure took before it was held back.
    pub(crate) fn saw(&self, took: Duration) {
        let mut seen = self.slowest_seen.lock().unwrap_or_else(|p| p.into_inner());
        let keep = seen.is_some_and(|(t, at)| t >= took && at.elapsed() < REMEMBER);
        if !keep {
            *seen = Some((took, Instant::now()));
        }
    }

    /// Measures what `registry`'s failures take (blocking: Argon2 runs for
    /// parameter sets not measured before) and sets the floor.
    pub(crate) fn calibrate(&self, registry: &Registry) {
        let mut measured = self.measured.lock().unwrap_or_else(|p| p.into_inner());
        let mut time = |params: argon2::Params| {
            let key = (params.m_cost(), params.t_cost(), params.p_cost());
            *measured.entry(key).or_insert_with(|| {
                // The slowest of three runs: one quick moment must not set a
                // floor that real failures exceed.
                (0..3)
                    .map(|_| {
                        let started = Instant::now();
                        argon2_run(params.clone());
                        started.elapsed()
                    })
                    .max()
                    .unwrap_or_default()
            })
        };
        let work = registry.failure_work();
        // An unknown id: all of it as padding.
        let mut slowest = time(padding_params(work));
        for costs in registry.secret_costs() {
            let own: Duration = costs.iter().map(|c| time(c.params())).sum();
            let rest = work - costs.iter().map(|c| c.work()).sum::<f64>();
            // Measured in quarters of a verification, so that a file of
            // many slightly different secrets is measured a few times only.
            let padding = if rest >= 0.01 {
                time(padding_params((rest * 4.0).ceil() / 4.0))
            } else {
                Duration::ZERO
            };
            slowest = slowest.max(own + padding);
        }
        let floor = slowest.mul_f64(MARGIN);
        self.nanos.store(
            floor.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }
}
