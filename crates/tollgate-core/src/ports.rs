//! What the protocol core asks of the outside, and the state it keeps
//! between requests. The core decides *what* must happen (verify this
//! secret, sign these claims); whoever implements [`Ports`] decides *how*
//! (Argon2's own threads, one run per core, a batch signer).

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use super::registry::Registry;
use super::sealed::SealingKey;
use super::secret_cache::SecretCache;
use super::throttle::{Throttle, ThrottleSettings};
use super::trust::{ChainVerdicts, TrustAnchors};
use tollgate_jose::clock::SharedClock;
use tollgate_jose::jose::JwksLocation;
use tollgate_jose::jose::PublicKeys;
use tollgate_jose::replay::ReplayError;

/// Why the outside could not do what the core asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortError {
    /// No signing key is active.
    NoActiveKey,
    /// Signing failed, or blocking work could not run.
    Failed,
    /// The active key cannot sign for now (a key in hardware whose token
    /// is away); it is tried again after this long. Never a reason to sign
    /// with another key.
    KeyUnavailable(std::time::Duration),
}

/// What a signed token is, which its header's `typ` says: RFC 9068's
/// `at+jwt`, an OpenID Connect id token's `JWT`, or Back-Channel Logout
/// 1.0's `logout+jwt` (§2.4: so that a logout token is never taken for
/// an id token, nor one for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Id,
    Logout,
}

pub trait Ports: Sync {
    /// Runs `work`, which blocks for a long time (Argon2), away from the
    /// request path.
    fn slow<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, PortError>> + Send;

    /// Runs `check`, work the request does in line (signature checks),
    /// so that the outside may count it: the time failures take is set by
    /// their work (and never by waiting).
    fn timed<T>(&self, check: impl FnOnce() -> T) -> T {
        check()
    }

    /// The compact JWS of a token of `kind` with these claims, signed
    /// with the key active at `now`.
    fn sign(
        &self,
        claims_json: Vec<u8>,
        kind: TokenKind,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<String, PortError>> + Send;

    /// The keys at `source`, as last fetched (cached as the source allows);
    /// with `refresh`, fetched again first if that is allowed yet (a `kid`
    /// was not among them).
    fn keys(
        &self,
        source: &JwksLocation,
        refresh: bool,
    ) -> impl Future<Output = Result<Arc<PublicKeys>, PortError>> + Send;

    /// Records an assertion's or proof's identifier, of `holder` (the
    /// client), as used until `until` (the replay store); `Ok(false)` when
    /// it was used before.
    fn first_use(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, ReplayError>> + Send;

    /// Moves the turn of `key` (a refresh-token family), of `holder`, from
    /// `from` on by one, kept until `until` (the replay store's
    /// `advance`); `Ok(false)` when it stood elsewhere: a replay.
    fn advance(
        &self,
        key: [u8; 32],
        holder: &str,
        from: u64,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, ReplayError>> + Send;

    /// Whether `key` is recorded as used and live at `now` (a revoked
    /// refresh-token family, a revoked access token), without recording it.
    fn used(
        &self,
        key: [u8; 32],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, ReplayError>> + Send;

    /// The CAs client certificates chain to (the client CA, the trust
    /// domains' bundles), as last read; `None`: none are configured, and
    /// no certificate chains anywhere.
    fn trust_anchors(&self) -> Option<Arc<TrustAnchors>> {
        None
    }
}

/// A platform token whose signature checked out, remembered until it
/// expires: workloads present the same token again and again.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub claims: Arc<serde_json::Value>,
    pub exp: i64,
    /// RFC 7638 thumbprint of the key that verified it.
    pub key: String,
}

/// The core's state that outlives requests: the verified-secret cache, the
/// throttle, the verified platform tokens and certificate chains.
pub struct Services {
    pub secrets: SecretCache,
    pub throttle: Throttle,
    /// Verified platform tokens, by SHA-256 of (issuer fingerprint, token).
    pub federated: quick_cache::sync::Cache<[u8; 32], VerifiedToken>,
    /// Outcomes of client certificate chains verified recently.
    pub chains: ChainVerdicts,
}

/// How many verified platform tokens are remembered at most.
const FEDERATED_CAPACITY: usize = 10_000;

impl Services {
    pub fn new(throttle: ThrottleSettings, clock: &SharedClock) -> Self {
        Self {
            secrets: SecretCache::default(),
            throttle: Throttle::new(throttle, clock),
            federated: quick_cache::sync::Cache::new(FEDERATED_CAPACITY),
            chains: ChainVerdicts::default(),
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
    /// The URL of our token endpoint as clients reach it: an audience of
    /// client assertions (RFC 7523 §3), the `htu` of DPoP proofs.
    pub token_endpoint: &'a str,
    pub now: OffsetDateTime,
    /// The source address, for throttling.
    pub address: Option<IpAddr>,
    /// The key that seals codes, refresh tokens and sessions; `None`
    /// where people do not sign in.
    pub sealing: Option<&'a SealingKey>,
}
