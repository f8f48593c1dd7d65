//! The authority's keys as an API sees them: discovery + JWKS, cached for
//! the JWKS's `Cache-Control: max-age` (bounded), so a key that left the
//! JWKS (a rotation, a leak) stops validating within that time; refetched
//! early for an unknown `kid`, at most once per [`REFETCH_INTERVAL`]
//! whether the fetches succeed or not. A fetch holds no lock that a
//! request with a known, fresh key waits for, and while a refetch is under
//! way the keys in hand keep serving.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::clock::SharedClock;

/// Unknown `kid`s and failed fetches trigger at most one fetch per this
/// interval, so a flood of forged tokens cannot turn the API into a JWKS
/// hammer, least of all while the authority is down.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// The cache time when the JWKS says none.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The bounds of a JWKS's `max-age`.
const MAX_AGE_BOUNDS: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(86_400));
/// How long past its `max-age` a key set may still serve while the
/// authority cannot be reached.
const STALE_GRACE: Duration = Duration::from_secs(300);

/// One verification key and the one algorithm it verifies.
#[derive(Clone)]
pub struct Key {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

/// The keys of one fetch.
pub struct KeySet {
    pub issuer: String,
    keys: HashMap<String, Key>,
    fetched_at: OffsetDateTime,
    max_age: Duration,
}

impl KeySet {
    fn age(&self, now: OffsetDateTime) -> Duration {
        (now - self.fetched_at).try_into().unwrap_or_default()
    }

    fn fresh(&self, now: OffsetDateTime) -> bool {
        self.age(now) < self.max_age
    }

    fn usable(&self, now: OffsetDateTime) -> bool {
        self.age(now) < self.max_age + STALE_GRACE
    }
}

/// Why no key could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The authority does not publish this `kid`.
    UnknownKey,
    /// Discovery or the JWKS could not be fetched (and the keys in hand
    /// are too old to use).
    Unavailable(String),
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<jsonwebtoken::jwk::Jwk>,
}

/// The cached keys of one authority.
pub struct RemoteKeys {
    authority: String,
    http: reqwest::Client,
    clock: SharedClock,
    current: RwLock<Option<Arc<KeySet>>>,
    last_attempt: Mutex<Option<OffsetDateTime>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

impl RemoteKeys {
    pub fn new(authority: String, http: reqwest::Client, clock: SharedClock) -> Self {
        Self {
            authority,
            http,
            clock,
            current: RwLock::new(None),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub fn authority(&self) -> &str {
        &self.authority
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The issuer and the key for `kid`.
    pub async fn key(&self, kid: &str) -> Result<(Arc<KeySet>, Key), Missing> {
        let now = self.clock.now();
        let held = self.current();
        if let Some(set) = &held
            && set.fresh(now)
            && let Some(key) = set.keys.get(kid)
        {
            return Ok((set.clone(), key.clone()));
        }
        // Stale keys while another request refetches: the key in hand, if
        // it is still usable, rather than a wait.
        if let Some(set) = &held
            && !set.fresh(now)
            && set.usable(now)
            && let Some(key) = set.keys.get(kid)
            && self.fetching.try_lock().is_err()
        {
            return Ok((set.clone(), key.clone()));
        }
        let _one_at_a_time = self.fetching.lock().await;
        // Another request may have refreshed while this one waited.
        let held = self.current();
        let now = self.clock.now();
        if let Some(set) = &held
            && set.fresh(now)
            && let Some(key) = set.keys.get(kid)
        {
            return Ok((set.clone(), key.clone()));
        }
        let fetched = if self.may_fetch(now) {
            let fetched = self.fetch(now).await;
            if let Ok(set) = &fetched {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(set.clone());
            }
            fetched
        } else {
            Err(Missing::UnknownKey)
        };
        let set = match (fetched, held) {
            (Ok(set), _) => set,
            // The authority is unreachable (or was just asked): the keys
            // in hand, while they are usable.
            (Err(_), Some(set)) if set.usable(now) => set,
            (Err(e), _) => return Err(e),
        };
        match set.keys.get(kid) {
            Some(key) => Ok((set.clone(), key.clone())),
            None => Err(Missing::UnknownKey),
        }
    }

    /// Whether the last attempt, successful or not, is long enough ago.
    fn may_fetch(&self, now: OffsetDateTime) -> bool {
        let mut last = self.last_attempt.lock().unwrap_or_else(|p| p.into_inner());
        let allowed = last.is_none_or(|t| now - t >= REFETCH_INTERVAL || now < t);
        if allowed {
            *last = Some(now);
        }
        allowed
    }

    async fn fetch(&self, now: OffsetDateTime) -> Result<Arc<KeySet>, Missing> {
        let unavailable = |what: &str, e: reqwest::Error| {
            Missing::Unavailable(format!("{what}: {}", without_url(&e)))
        };
        let url = format!("{}/.well-known/openid-configuration", self.authority);
        let discovery: Discovery = self
            .get(&url)
            .await
            .map_err(|e| unavailable("discovery", e))?
            .json()
            .await
            .map_err(|e| unavailable("discovery", e))?;
        let response = self
            .get(&discovery.jwks_uri)
            .await
            .map_err(|e| unavailable("JWKS", e))?;
        let max_age = max_age(response.headers());
        let jwks: Jwks = response.json().await.map_err(|e| unavailable("JWKS", e))?;
        let keys = jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((
                    kid,
                    Key {
                        key,
                        algorithm: key_algorithm(jwk)?,
                    },
                ))
            })
            .collect();
        Ok(Arc::new(KeySet {
            issuer: discovery.issuer,
            keys,
            fetched_at: now,
            max_age,
        }))
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response, reqwest::Error> {
        self.http.get(url).send().await?.error_for_status()
    }
}

/// `Cache-Control: max-age`, within bounds; the default without one.
fn max_age(headers: &reqwest::header::HeaderMap) -> Duration {
    let (low, high) = MAX_AGE_BOUNDS;
    headers
        .get_all(reqwest::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|d| {
            d.trim()
                .strip_prefix("max-age=")?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(DEFAULT_MAX_AGE, |s| Duration::from_secs(s).clamp(low, high))
}

/// The one algorithm a published key verifies, from its type: P-256 keys
/// ES256, Ed25519 keys EdDSA, RSA keys RS256. Other keys are ignored.
fn key_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        _ => None,
    }
}

/// reqwest errors print the URL; the message reads better without it.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s
            .replace(&format!(" ({url})"), "")
            .replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s = format!("{s}: {inner}");
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control_and_bounded() {
        let headers = |v: &str| {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::CACHE_CONTROL, v.parse().unwrap());
            h
        };
        assert_eq!(
            max_age(&headers("public, max-age=60")),
            Duration::from_secs(60)
        );
        assert_eq!(max_age(&headers("max-age=0")), Duration::from_secs(1));
        assert_eq!(
            max_age(&headers("max-age=99999999")),
            Duration::from_secs(86_400)
        );
        assert_eq!(max_age(&headers("no-cache")), DEFAULT_MAX_AGE);
        assert_eq!(max_age(&reqwest::header::HeaderMap::new()), DEFAULT_MAX_AGE);
    }
}
