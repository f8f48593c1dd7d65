//! The time a failed client authentication takes, made the same for
//! every failure. The core already does the same Argon2 *work* for each
//! (see `Registry::failure_work`), but the same work with more memory runs
//! slower (a 64 MiB hash misses the caches a 19 MiB one hits), so a
//! failure is also answered no sooner than a floor: each parameter set in
//! the file is measured on this machine when the file is loaded, and the
//! work failures were seen doing recently raises the floor further (a
//! busy or noisy machine makes a measurement low).
//!
//! What counts is the *work* of a failure alone: the time its Argon2 runs
//! took on their thread ([`add_work`], from the `slow` port) and its
//! signature checks (the `timed` port). Waiting for an Argon2 permit, for
//! a key set to be fetched or for the scheduler is not work: a flood of
//! wrong secrets, or a client whose `jwks_uri` answers slowly, once raised
//! every failure's time to 5–20 s, and so parked the attacker's requests
//! in memory for that long.
//!
//! How the floor moves:
//! - It is the largest of the calibrated time and the largest work seen
//!   in the last one to two minutes, each with a margin, and never more
//!   than [`CAP`] (1 s). Failures that take longer than the cap (a file
//!   of very costly hashes) are answered when their work is done.
//! - "Recently" is two windows of [`WINDOW`]: the largest work of the
//!   current window and of the one before. A flood's slow failures so
//!   raise the floor for at most two windows after the last of them; then
//!   a failure takes what it took before the flood.
//!
//! Requests waiting out the floor are bounded by [`PARKED`]: a failure
//! that finds them all taken is answered at once, unequalized. Only a
//! flood of failures fills them, so the requests that see it are
//! (almost always) the flood's own; what they learn is the raw time of
//! work the core already makes equal, and the alternative is memory
//! without bound (20,000 parked HTTP/2 requests held 655 MB).

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tollgate_core::{Registry, argon2_run, padding_params};

/// Headroom over the measured work, for the noise of a busy machine.
const MARGIN: f64 = 1.2;
/// The floor never exceeds this.
pub(crate) const CAP: Duration = Duration::from_secs(1);
/// How long one window of the recent work lasts; the work seen keeps
/// raising the floor for one to two windows.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// Failed requests that may wait out the floor at once (~30 KB each, so
/// a few tens of MB at most).
pub(crate) const PARKED: usize = 1024;

tokio::task_local! {
    /// The work the current request did, if it is being measured.
    static WORK: Cell<Duration>;
}

/// Runs `request` and returns what it gave and the work it did (see
/// [`add_work`]).
pub(crate) async fn measured<F: Future>(request: F) -> (F::Output, Duration) {
    WORK.scope(Cell::new(Duration::ZERO), async move {
        let output = request.await;
        (output, WORK.with(Cell::get))
    })
    .await
}

/// Counts `took` as work of the request being measured (none: nothing).
pub(crate) fn add_work(took: Duration) {
    let _ = WORK.try_with(|w| w.set(w.get().saturating_add(took)));
}

/// The largest work seen in the current window and the one before.
#[derive(Default)]
struct Recent {
    /// When the current window began (none: nothing seen yet).
    began: Option<Instant>,
    current: Duration,
    previous: Duration,
}

impl Recent {
    /// Moves the windows on to `now`.
    fn roll(&mut self, now: Instant) {
        let Some(began) = self.began else {
            self.began = Some(now);
            return;
        };
        let age = now.saturating_duration_since(began);
        if age >= 2 * WINDOW {
            *self = Self {
                began: Some(now),
                ..Self::default()
            };
        } else if age >= WINDOW {
            self.previous = std::mem::take(&mut self.current);
            self.began = Some(began + WINDOW);
        }
    }

    fn largest(&self) -> Duration {
        self.current.max(self.previous)
    }
}

/// The floor of a failure's time, and what it was computed from.
pub(crate) struct FailureFloor {
    /// The calibrated floor, in nanoseconds.
    nanos: AtomicU64,
    recent: Mutex<Recent>,
    /// Measured time of one run, by (memory KiB, passes, lanes).
    measured: Mutex<HashMap<(u32, u32, u32), Duration>>,
    parked: tokio::sync::Semaphore,
}

impl Default for FailureFloor {
    fn default() -> Self {
        Self {
            nanos: AtomicU64::new(0),
            recent: Mutex::default(),
            measured: Mutex::default(),
            parked: tokio::sync::Semaphore::new(PARKED),
        }
    }
}

impl FailureFloor {
    /// How soon after authentication began a failure may be answered.
    pub(crate) fn floor(&self) -> Duration {
        self.floor_at(Instant::now())
    }

    fn floor_at(&self, now: Instant) -> Duration {
        let calibrated = Duration::from_nanos(self.nanos.load(Ordering::Relaxed));
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.roll(now);
        calibrated.max(recent.largest().mul_f64(MARGIN)).min(CAP)
    }

    /// Notes the work a failure did (not the time it took: see the module).
    pub(crate) fn saw(&self, work: Duration) {
        self.saw_at(work, Instant::now());
    }

    fn saw_at(&self, work: Duration, now: Instant) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.roll(now);
        recent.current = recent.current.max(work);
    }

    /// A place to wait out the floor, if one is free.
    pub(crate) fn park(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.parked.try_acquire().ok()
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
        let floor = slowest.mul_f64(MARGIN).min(CAP);
        self.nanos.store(
            floor.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calibrated(to: Duration) -> FailureFloor {
        let floor = FailureFloor::default();
        floor.nanos.store(to.as_nanos() as u64, Ordering::Relaxed);
        floor
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn only_the_work_counts_not_the_waiting() {
        let ((), work) = measured(async {
            // Waiting for a permit or a key fetch: not work.
            tokio::time::sleep(30 * MS).await;
            add_work(4 * MS);
            tokio::time::sleep(10 * MS).await;
            add_work(MS);
        })
        .await;
        assert_eq!(work, 5 * MS);
        // Outside a measured request, work goes nowhere.
        add_work(MS);
    }

    #[test]
    fn the_floor_is_the_calibration_or_the_recent_work_and_never_over_a_second() {
        let t0 = Instant::now();
        let floor = calibrated(40 * MS);
        assert_eq!(floor.floor_at(t0), 40 * MS);
        floor.saw_at(20 * MS, t0);
        assert_eq!(floor.floor_at(t0), 40 * MS, "less work: the calibration");
        floor.saw_at(100 * MS, t0);
        assert_eq!(floor.floor_at(t0), 120 * MS, "more work, with the margin");
        floor.saw_at(Duration::from_secs(19), t0);
        assert_eq!(floor.floor_at(t0), CAP);
        assert_eq!(calibrated(Duration::from_secs(3)).floor_at(t0), CAP);
    }

    #[test]
    fn once_a_flood_has_drained_the_floor_comes_back_down() {
        let t0 = Instant::now();
        let floor = calibrated(40 * MS);
        // A flood: slow failures for a minute and a half.
        for s in 0..90 {
            floor.saw_at(500 * MS, t0 + Duration::from_secs(s));
        }
        let last = t0 + Duration::from_secs(89);
        assert_eq!(floor.floor_at(last + WINDOW / 2), 600 * MS);
        // Quiet since: ordinary failures only.
        floor.saw_at(30 * MS, last + WINDOW);
        assert_eq!(floor.floor_at(last + 2 * WINDOW), 40 * MS);
        assert_eq!(floor.floor_at(last + 10 * WINDOW), 40 * MS);
        // And a long silence forgets everything at once.
        let other = calibrated(40 * MS);
        other.saw_at(900 * MS, t0);
        assert_eq!(other.floor_at(t0 + 5 * WINDOW), 40 * MS);
    }

    #[test]
    fn the_requests_waiting_out_the_floor_are_bounded() {
        let floor = FailureFloor::default();
        let held: Vec<_> = (0..PARKED).map(|_| floor.park().unwrap()).collect();
        assert!(floor.park().is_none(), "beyond the bound: answered at once");
        drop(held);
        assert!(floor.park().is_some());
    }
}
