//! Throttling of client authentication that needs Argon2: per client id and
//! per source address (GCRA, governor). Only attempts that miss the
//! verified-secret cache count, so a client whose secret is already
//! verified is never throttled, and a few typos never lock anyone out:
//! the budget is a burst of `N` attempts that refills over the window.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Throttling settings (`[throttle]` in identity.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failed (uncached) authentications per client id per window; 0 = off.
    pub client_failures: u32,
    /// The same per source address; 0 = off.
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

pub struct Throttle {
    clients: Option<DefaultKeyedRateLimiter<String>>,
    addresses: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(
    per_window: u32,
    window: Duration,
) -> Option<DefaultKeyedRateLimiter<K>> {
    let burst = NonZeroU32::new(per_window)?;
    let quota = Quota::with_period(window / per_window)?.allow_burst(burst);
    Some(RateLimiter::keyed(quota))
}

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            clients: limiter(settings.client_failures, settings.window),
            addresses: limiter(settings.address_failures, settings.window),
            clock: DefaultClock::default(),
        }
    }

    /// Counts an authentication attempt that will run Argon2. `Err` holds
    /// how long to wait when the client id's or the address's budget is
    /// spent; the attempt is then refused without Argon2.
    pub fn attempt(&self, client_id: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Some(limiter) = &self.clients
            && let Err(not_until) = limiter.check_key(&client_id.to_owned())
        {
            return Err(not_until.wait_time_from(now));
        }
        if let (Some(limiter), Some(ip)) = (&self.addresses, address)
            && let Err(not_until) = limiter.check_key(&ip)
        {
            return Err(not_until.wait_time_from(now));
        }
        Ok(())
    }

    /// Forgets keys whose budget is full again, so random client ids cannot
    /// grow the tables without bound.
    pub fn prune(&self) {
        if let Some(l) = &self.clients {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.addresses {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_attempts_passes_then_the_client_waits() {
        let t = Throttle::new(ThrottleSettings {
            client_failures: 3,
            address_failures: 0,
            window: Duration::from_secs(60),
        });
        for _ in 0..3 {
            assert!(t.attempt("c", None).is_ok());
        }
        let wait = t.attempt("c", None).unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            t.attempt("other", None).is_ok(),
            "budgets are per client id"
        );
    }

    #[test]
    fn the_address_budget_covers_every_client_id_from_it() {
        let t = Throttle::new(ThrottleSettings {
            client_failures: 100,
            address_failures: 2,
            window: Duration::from_secs(60),
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(t.attempt("a", Some(ip)).is_ok());
        assert!(t.attempt("b", Some(ip)).is_ok());
        assert!(t.attempt("c", Some(ip)).is_err());
        assert!(t.attempt("c", Some("192.0.2.2".parse().unwrap())).is_ok());
    }

    #[test]
    fn zero_turns_throttling_off() {
        let t = Throttle::new(ThrottleSettings {
            client_failures: 0,
            address_failures: 0,
            window: Duration::from_secs(60),
        });
        for _ in 0..1000 {
            assert!(t.attempt("c", None).is_ok());
        }
    }
}
