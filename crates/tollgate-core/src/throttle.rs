//! Throttling of authentications that need Argon2 (GCRA, governor), per
//! source address and per (id, address) pair.
//!
//! Only attempts that miss the verified-secret cache count, so a client
//! whose secret is verified is never throttled, and a few typos lock no one
//! out: a budget is a burst of `N` attempts that refills over the window.
//!
//! The id budget is per address: an attacker's guesses at a client's id
//! spend the attacker's budget, never the real client's (who would
//! otherwise be locked out whenever its cache is cold). A distributed
//! guesser still pays: every address it uses has its own two budgets, and
//! every guess costs a full Argon2 verification and a padded answer.
//!
//! Memory is bounded whatever the requests: keys are fixed-size (an
//! address, or a keyed hash of the id and address) and each table holds at
//! most [`CAPACITY`] keys, the least used evicted first. The address is
//! counted first, so ids from an address over its budget are not even
//! remembered. IPv6 addresses count by their /64 prefix, which one host
//! can fill at will.

use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

use tollgate_jose::clock::{SharedClock, unix_nanos};

/// Keys each table remembers at most.
pub(crate) const CAPACITY: usize = 100_000;

/// Throttling settings (`[throttle]` in identity.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failed (uncached) authentications per id and address per window;
    /// 0 = off.
    pub client_failures: u32,
    /// The same per source address, all ids together; 0 = off.
    pub address_failures: u32,
    pub window: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            client_failures: 10,
            address_failures: 100,
            window: Duration::from_secs(60),
        }
    }
}

/// The server's clock as governor reads it: time since the Unix epoch.
#[derive(Clone)]
struct GovernorClock(SharedClock);

impl governor::clock::Clock for GovernorClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_nanos(unix_nanos(self.0.now()))
    }
}

/// A bounded table of GCRA states.
struct BoundedStore<K> {
    cells: Arc<quick_cache::sync::Cache<K, Arc<InMemoryState>>>,
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let cell = self
            .cells
            .get_or_insert_with(key, || {
                Ok::<_, std::convert::Infallible>(Arc::new(InMemoryState::default()))
            })
            .unwrap_or_else(|never| match never {});
        cell.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

type Limiter<K> = RateLimiter<K, BoundedStore<K>, GovernorClock, NoOpMiddleware<Duration>>;

/// A limiter and (for its size) its table.
struct Table<K: Hash + Eq + Clone> {
    limiter: Limiter<K>,
    cells: Arc<quick_cache::sync::Cache<K, Arc<InMemoryState>>>,
}

fn table<K: Hash + Eq + Clone>(
    per_window: u32,
    window: Duration,
    clock: &SharedClock,
) -> Option<Table<K>> {
    let burst = NonZeroU32::new(per_window)?;
    let quota = Quota::with_period(window / per_window)?.allow_burst(burst);
    let cells = Arc::new(quick_cache::sync::Cache::new(CAPACITY));
    let store = BoundedStore {
        cells: cells.clone(),
    };
    let limiter = RateLimiter::new(quota, store, GovernorClock(clock.clone()));
    Some(Table { limiter, cells })
}

pub struct Throttle {
    addresses: Option<Table<IpAddr>>,
    ids: Option<Table<u64>>,
    hasher: std::collections::hash_map::RandomState,
    clock: GovernorClock,
}

/// The address an attacker controls as a unit: IPv4 as is, IPv6 by /64.
fn unit(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().expect("mapped")),
        v4 => v4,
    }
}

impl Throttle {
    pub fn new(settings: ThrottleSettings, clock: &SharedClock) -> Self {
        Self {
            addresses: table(settings.address_failures, settings.window, clock),
            ids: table(settings.client_failures, settings.window, clock),
            hasher: Default::default(),
            clock: GovernorClock(clock.clone()),
        }
    }

    /// Counts an authentication attempt of `id` (of a kind of principal)
    /// from `address` that will run Argon2. `Err` holds how long to wait
    /// when a budget is spent; the attempt is then refused without Argon2.
    pub fn attempt(&self, kind: u8, id: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        use governor::clock::Clock;
        let now = self.clock.now();
        let address = address.map(unit);
        if let (Some(table), Some(ip)) = (&self.addresses, address) {
            table
                .limiter
                .check_key(&ip)
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        if let Some(table) = &self.ids {
            let key = self.hasher.hash_one((kind, id, address));
            table
                .limiter
                .check_key(&key)
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Keys remembered now (addresses, id-address pairs).
    pub fn remembered(&self) -> (usize, usize) {
        (
            self.addresses.as_ref().map_or(0, |t| t.cells.len()),
            self.ids.as_ref().map_or(0, |t| t.cells.len()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use tollgate_jose::clock::ManualClock;

    fn throttle(client: u32, address: u32) -> (Throttle, Arc<ManualClock>) {
        let clock = ManualClock::new(datetime!(2026-12-01 12:00 UTC));
        let shared: SharedClock = clock.clone();
        let t = Throttle::new(
            ThrottleSettings {
                client_failures: client,
                address_failures: address,
                window: Duration::from_secs(60),
            },
            &shared,
        );
        (t, clock)
    }

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    #[test]
    fn a_burst_of_attempts_passes_then_the_id_waits_and_the_budget_refills_with_time() {
        let (t, clock) = throttle(3, 0);
        for _ in 0..3 {
            assert!(t.attempt(0, "c", A).is_ok());
        }
        let wait = t.attempt(0, "c", A).unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(t.attempt(0, "other", A).is_ok(), "budgets are per id");
        clock.advance(time::Duration::seconds(20));
        assert!(t.attempt(0, "c", A).is_ok(), "refilled by the pinned clock");
    }

    #[test]
    fn guesses_from_another_address_never_spend_the_real_clients_budget() {
        let (t, _) = throttle(3, 0);
        for _ in 0..10 {
            let _ = t.attempt(0, "c", B);
        }
        assert!(t.attempt(0, "c", B).is_err(), "the guesser is throttled");
        assert!(t.attempt(0, "c", A).is_ok(), "the client is not");
        assert!(
            t.attempt(1, "c", B).is_ok(),
            "kinds of principals are apart"
        );
    }

    #[test]
    fn the_address_budget_covers_every_id_from_it_and_ipv6_counts_by_prefix() {
        let (t, _) = throttle(100, 2);
        assert!(t.attempt(0, "a", A).is_ok());
        assert!(t.attempt(0, "b", A).is_ok());
        assert!(t.attempt(0, "c", A).is_err());
        assert!(t.attempt(0, "c", B).is_ok());
        let v6 = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(t.attempt(0, "a", v6("2001:db8::1")).is_ok());
        assert!(t.attempt(0, "b", v6("2001:db8::2")).is_ok());
        assert!(t.attempt(0, "c", v6("2001:db8::3")).is_err(), "same /64");
    }

    #[test]
    fn memory_is_bounded_whatever_the_ids() {
        let (t, _) = throttle(10, 0);
        for i in 0..(CAPACITY + 20_000) {
            let _ = t.attempt(0, &format!("id-{i}"), A);
        }
        let (_, held) = t.remembered();
        assert!(held > CAPACITY / 2 && held <= CAPACITY, "{held}");
    }

    #[test]
    fn zero_turns_throttling_off() {
        let (t, _) = throttle(0, 0);
        for _ in 0..1000 {
            assert!(t.attempt(0, "c", A).is_ok());
        }
    }
}
