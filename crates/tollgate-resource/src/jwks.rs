//! The one cache of remote key sets — an authority's JWKS for the
//! validator, a client's `jwks_uri`, a trusted issuer's keys for the
//! server: fetched with a timeout and a size bound, kept for the
//! response's `Cache-Control: max-age` (bounded to [`MIN_AGE`] and 24 h),
//! fetched again early for an unknown `kid`, or after a failure, at most
//! once per [`REFETCH_INTERVAL`] per set. Every key passes one JWK policy
//! (`tollgate_jose::jose::usable_keys`) before it is ever tried.
//!
//! A fetch holds no lock that anyone with a usable key set waits for: the
//! keys in hand are read from behind a short lock, a fetch runs under a
//! per-set lock of its own, and only requests that need what the fetch
//! may bring (an unknown `kid`, nothing in hand) wait for it. So one slow
//! or forged `kid` never stalls the tokens of the set's other keys, and a
//! slow set never stalls another set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tollgate_jose::clock::SharedClock;
use tollgate_jose::jose::{JwksLocation, PublicKeys, usable_keys};

/// Unknown `kid`s and failed fetches trigger at most one fetch per this
/// interval and key set, so a flood of forged tokens cannot turn the
/// cache into a JWKS hammer, least of all while the authority is down.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest time a fetched set is kept, whatever its `max-age`: a set
/// fetched more often than this could not be fetched anyway.
pub const MIN_AGE: Duration = REFETCH_INTERVAL;
const MAX_AGE: Duration = Duration::from_secs(86_400);
/// The cache time when the response says none.
const DEFAULT_AGE: Duration = Duration::from_secs(300);
/// How long past its `max-age` a set may still serve while it cannot be
/// fetched again.
const STALE_GRACE: Duration = Duration::from_secs(300);
/// A JWKS or discovery document larger than this is refused.
const MAX_BYTES: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);

/// One fetch of a key set.
#[derive(Debug)]
pub struct KeySet {
    /// The keys that passed the JWK policy.
    pub keys: Arc<PublicKeys>,
    /// The discovery document's `issuer`, when the set was found through
    /// one.
    pub issuer: Option<String>,
    /// The discovery document itself, when the set was found through one:
    /// a relying party reads its endpoints from the same fetch.
    pub document: Option<Arc<serde_json::Value>>,
    /// The JWK Set as fetched, every key in it (`keys` holds those that
    /// passed the policy): a relying-party library verifies with its own.
    pub jwks: Arc<serde_json::Value>,
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

/// Why no key set could be had: the fetch failed (or was not allowed
/// yet) and the set in hand, if any, is too old to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One key set's state.
#[derive(Default)]
struct Entry {
    current: Mutex<Option<Arc<KeySet>>>,
    last_attempt: Mutex<Option<OffsetDateTime>>,
    /// One fetch at a time per set; held across the fetch, and waited for
    /// only by requests that need the fetch's result.
    fetching: tokio::sync::Mutex<()>,
}

impl Entry {
    fn current(&self) -> Option<Arc<KeySet>> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the last attempt, successful or not, is long enough ago;
    /// if so, this call is the attempt.
    fn may_fetch(&self, now: OffsetDateTime) -> bool {
        let mut last = self.last_attempt.lock().unwrap_or_else(|p| p.into_inner());
        let allowed = last.is_none_or(|t| now - t >= REFETCH_INTERVAL || now < t);
        if allowed {
            *last = Some(now);
        }
        allowed
    }
}

/// Where keys may be fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// https, or http to a loopback host: for URLs that come from a file
    /// or a document others write (a client's `jwks_uri`, a discovery
    /// document's).
    HttpsOrLoopback,
    /// Any http(s) URL: for the authority an API's own code names.
    Any,
}

/// The key sets of every location.
pub struct JwksCache {
    http: reqwest::Client,
    clock: SharedClock,
    transport: Transport,
    entries: Mutex<HashMap<JwksLocation, Arc<Entry>>>,
}

impl JwksCache {
    /// A cache that judges ages by `clock` and fetches over `transport`.
    pub fn new(clock: SharedClock, transport: Transport) -> Self {
        let http = crate::http_client::build(|b| {
            b.timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
        })
        .expect("an HTTP client with the bundled roots builds");
        Self {
            http,
            clock,
            transport,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The HTTP client the cache fetches with (its timeout, its roots, no
    /// redirects followed), for the server's other calls to the same
    /// parties (a provider's token endpoint).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn entry(&self, location: &JwksLocation) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.entry(location.clone()).or_default().clone()
    }

    /// The key set at `location`. With `refresh` (a `kid` was not in the
    /// set in hand), fetched again first when the interval allows; the
    /// set in hand otherwise, while it is usable.
    pub async fn get(
        &self,
        location: &JwksLocation,
        refresh: bool,
    ) -> Result<Arc<KeySet>, Unavailable> {
        let entry = self.entry(location);
        let asked_at = self.clock.now();
        let held = entry.current();
        if let Some(set) = &held {
            if !refresh && set.fresh(asked_at) {
                return Ok(set.clone());
            }
            // Stale keys while another request refetches: the set in hand,
            // if it is still usable, rather than a wait.
            if !refresh && set.usable(asked_at) && entry.fetching.try_lock().is_err() {
                return Ok(set.clone());
            }
        }
        let _one_at_a_time = entry.fetching.lock().await;
        let now = self.clock.now();
        let held = entry.current();
        if let Some(set) = &held {
            // Fetched while this request waited: as new as it gets.
            let fetched_since = set.fetched_at > asked_at;
            if fetched_since || (!refresh && set.fresh(now)) {
                return Ok(set.clone());
            }
        }
        let why = if entry.may_fetch(now) {
            match self.fetch(location, now).await {
                Ok(set) => {
                    let set = Arc::new(set);
                    *entry.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(set.clone());
                    return Ok(set);
                }
                Err(why) => {
                    // At most one line per set and interval: fetches are.
                    tracing::warn!(
                        url = %location.url,
                        error = %why,
                        keeping = held.is_some(),
                        "cannot fetch keys"
                    );
                    why
                }
            }
        } else {
            "fetched less than the refetch interval ago".to_owned()
        };
        match held {
            Some(set) if set.usable(now) => Ok(set),
            _ => Err(Unavailable(why)),
        }
    }

    async fn fetch(&self, location: &JwksLocation, now: OffsetDateTime) -> Result<KeySet, String> {
        let (jwks_url, issuer, document) = if location.discovery {
            // OIDC Discovery §4: the issuer, then the well-known path.
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                location.url.as_str().trim_end_matches('/')
            )
            .parse::<url::Url>()
            .map_err(|e| e.to_string())?;
            let (doc, _) = self
                .get_json(&discovery)
                .await
                .map_err(|e| format!("discovery: {e}"))?;
            let field = |name: &str| doc.get(name).and_then(|v| v.as_str()).map(str::to_owned);
            let uri = field("jwks_uri").ok_or("the discovery document has no jwks_uri")?;
            let uri = uri
                .parse::<url::Url>()
                .map_err(|e| format!("jwks_uri: {e}"))?;
            let issuer = field("issuer");
            (uri, issuer, Some(Arc::new(doc)))
        } else {
            (location.url.clone(), None, None)
        };
        let (jwks, max_age) = self
            .get_json(&jwks_url)
            .await
            .map_err(|e| format!("JWKS: {e}"))?;
        if !jwks.get("keys").is_some_and(|k| k.is_array()) {
            return Err("not a JWK Set (no `keys` array)".into());
        }
        // A set with no usable key is still the set: keys withdrawn (a
        // leak) stop verifying now, not when the old set grows too old.
        let (keys, problems) = usable_keys(&jwks);
        for p in &problems {
            tracing::debug!(url = %jwks_url, problem = %p, "key not used");
        }
        if keys.0.is_empty() {
            tracing::warn!(url = %jwks_url, problems = %problems.join("; "), "no usable key");
        }
        Ok(KeySet {
            keys: Arc::new(keys),
            issuer,
            document,
            jwks: Arc::new(jwks),
            fetched_at: now,
            max_age,
        })
    }

    /// A JSON document and its cache time, within bounds.
    async fn get_json(&self, url: &url::Url) -> Result<(serde_json::Value, Duration), String> {
        if self.transport == Transport::HttpsOrLoopback && !https_or_loopback(url) {
            return Err(format!("{url} is neither https nor loopback"));
        }
        let mut response = self
            .http
            .get(url.clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| describe(&e))?;
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(format!("larger than {MAX_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let value = serde_json::from_slice(&body).map_err(|e| format!("not JSON ({e})"))?;
        Ok((value, max_age))
    }
}

/// `Cache-Control: max-age`, within bounds; the default without one.
fn max_age(headers: &reqwest::header::HeaderMap) -> Duration {
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
        .map_or(DEFAULT_AGE, |s| {
            Duration::from_secs(s).clamp(MIN_AGE, MAX_AGE)
        })
}

/// https, or http to a loopback host (tests, sidecars).
pub fn https_or_loopback(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        },
        _ => false,
    }
}

/// A reqwest error as one readable line: its causes, without the URL it
/// prints (the caller names the URL once).
pub fn describe(e: &reqwest::Error) -> String {
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
        assert_eq!(max_age(&headers("max-age=0")), MIN_AGE);
        assert_eq!(
            max_age(&headers("max-age=99999999")),
            Duration::from_secs(86_400)
        );
        assert_eq!(max_age(&headers("no-cache")), DEFAULT_AGE);
        assert_eq!(max_age(&reqwest::header::HeaderMap::new()), DEFAULT_AGE);
    }

    #[test]
    fn only_https_or_loopback_is_fetched_from_where_others_write_the_url() {
        let ok = |u: &str| https_or_loopback(&u.parse().unwrap());
        assert!(ok("https://example.com/jwks"));
        assert!(ok("http://127.0.0.1:8080/jwks"));
        assert!(ok("http://[::1]/jwks"));
        assert!(ok("http://localhost/jwks"));
        assert!(!ok("http://example.com/jwks"));
        assert!(!ok("ftp://127.0.0.1/jwks"));
    }
}
