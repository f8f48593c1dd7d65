//! Time: the wall clock for tests that run against it, pinned starting
//! points for tests that move a `ManualClock`, and unique numbers for
//! `jti`s and nonces.

use std::sync::atomic::{AtomicU64, Ordering};

use tollgate_jose::clock::{Clock, ManualClock};

/// The wall clock, for tests that run against it.
pub(crate) fn now() -> time::OffsetDateTime {
    tollgate_jose::clock::system().now()
}

/// Whole seconds from now, as an RFC 3339 / TOML date-time.
pub(crate) fn at(from_now: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    (now().replace_nanosecond(0).unwrap() + time::Duration::seconds(from_now))
        .format(&Rfc3339)
        .unwrap()
}

/// Now in whole seconds: where a `ManualClock` starts.
pub(crate) fn start() -> time::OffsetDateTime {
    now().replace_nanosecond(0).unwrap()
}

/// The Unix time of `clock`.
pub(crate) fn clock_now(clock: &ManualClock) -> i64 {
    clock.now().unix_timestamp()
}

/// A number no other call in this test binary gets: `jti`s and nonces.
pub(crate) fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
