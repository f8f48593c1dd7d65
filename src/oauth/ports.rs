//! What the protocol core asks of the outside, and the state it keeps
//! between requests. The core decides *what* must happen (verify this
//! secret, sign these claims); whoever implements [`Ports`] decides *how*
//! (a blocking pool with one Argon2 run per core, a batch signer).

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use super::registry::Registry;
use super::secret_cache::SecretCache;
use super::throttle::{Throttle, ThrottleSettings};
use crate::clock::SharedClock;

/// Why the outside could not do what the core asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortError {
    /// No signing key is active.
    NoActiveKey,
    /// Signing failed, or blocking work could not run.
    Failed,
}

pub trait Ports: Sync {
    /// Runs `work`, which blocks for a long time (Argon2), away from the
    /// request path.
    fn slow<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, PortError>> + Send;

    /// The compact JWS of an access token with these claims, signed with
    /// the key active at `now`.
    fn sign(
        &self,
        claims_json: Vec<u8>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// The core's state that outlives requests: the verified-secret cache and
/// the throttle.
pub struct Services {
    pub secrets: SecretCache,
    pub throttle: Throttle,
}

impl Services {
    pub fn new(throttle: ThrottleSettings, clock: &SharedClock) -> Self {
        Self {
            secrets: SecretCache::default(),
            throttle: Throttle::new(throttle, clock),
        }
    }
}

/// What one request runs against: the registry in force (loaded once, so
/// a request never sees half a reload), the core's state, and the request's
/// own facts.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub registry: &'a Arc<Registry>,
    pub services: &'a Arc<Services>,
    /// Our issuer identifier: `iss` of tokens, an audience of assertions.
    pub issuer: &'a str,
    pub now: OffsetDateTime,
    /// The source address, for throttling.
    pub address: Option<IpAddr>,
}
