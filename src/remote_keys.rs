//! Keys at a URL (a client's `jwks_uri`, a trusted issuer's `jwks_uri` or
//! discovery document), as the protocol core asks for them: fetched with a
//! timeout and a size bound, https only (loopback excepted), cached for
//! the response's `Cache-Control: max-age` (at least 60 s, at most 24 h),
//! fetched again for an unknown `kid` at most once per 10 s per source.
//! Each source has its own lock, so a slow or dead URL never holds up
//! another client; one that is down keeps its last keys (and a log line
//! says so) or, never fetched, fails the requests that need it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::log_limit::LogLimit;
use crate::oauth::RemoteKeys;
use crate::oauth::jose::{PublicKeys, usable_keys};

const TIMEOUT: Duration = Duration::from_secs(5);
/// A JWKS or discovery document larger than this is refused.
const MAX_BYTES: usize = 256 * 1024;
const MIN_AGE: Duration = Duration::from_secs(60);
const MAX_AGE: Duration = Duration::from_secs(86_400);
/// The cache time when the response says none.
const DEFAULT_AGE: Duration = Duration::from_secs(300);
/// Fetches for unknown `kid`s (or after a failure) at most this often.
const REFETCH: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Cached {
    keys: Option<Arc<PublicKeys>>,
    fetched_at: Option<OffsetDateTime>,
    max_age: Duration,
    last_attempt: Option<OffsetDateTime>,
}

struct Source {
    cached: tokio::sync::Mutex<Cached>,
    warned: LogLimit,
}

/// The remote key sets of every source.
pub struct RemoteKeyCache {
    http: reqwest::Client,
    clock: SharedClock,
    sources: Mutex<HashMap<RemoteKeys, Arc<Source>>>,
}

/// Why keys could not be had.
#[derive(Debug)]
pub struct Unavailable;

impl RemoteKeyCache {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            http: crate::http_client::build(|b| {
                b.timeout(TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
            })
            .expect("an HTTP client with the bundled roots builds"),
            clock,
            sources: Mutex::new(HashMap::new()),
        }
    }

    fn source(&self, key: &RemoteKeys) -> Arc<Source> {
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        sources
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Source {
                    cached: tokio::sync::Mutex::new(Cached::default()),
                    warned: LogLimit::new(Duration::from_secs(60)),
                })
            })
            .clone()
    }

    /// The keys of `key`; with `refresh`, fetched again first when allowed.
    pub async fn get(
        &self,
        key: &RemoteKeys,
        refresh: bool,
    ) -> Result<Arc<PublicKeys>, Unavailable> {
        let source = self.source(key);
        let mut cached = source.cached.lock().await;
        let now = self.clock.now();
        let age = |t: Option<OffsetDateTime>| t.map(|t| (now - t).unsigned_abs());
        let fresh = age(cached.fetched_at).is_some_and(|a| a < cached.max_age);
        let may_fetch = age(cached.last_attempt).is_none_or(|a| a >= REFETCH);
        let wanted = refresh || !fresh;
        if !(wanted && may_fetch) {
            return cached.keys.clone().ok_or(Unavailable);
        }
        cached.last_attempt = Some(now);
        match self.fetch(key).await {
            Ok((keys, max_age)) => {
                cached.keys = Some(Arc::new(keys));
                cached.fetched_at = Some(now);
                cached.max_age = max_age;
            }
            Err(why) => {
                if let Some(held_back) = source.warned.allow() {
                    tracing::warn!(
                        url = %key.url,
                        error = %why,
                        keeping = cached.keys.is_some(),
                        similar_since_last = held_back,
                        "cannot fetch keys"
                    );
                }
            }
        }
        cached.keys.clone().ok_or(Unavailable)
    }

    async fn fetch(&self, key: &RemoteKeys) -> Result<(PublicKeys, Duration), String> {
        let jwks_url = if key.discovery {
            // OIDC Discovery §4: the issuer, then the well-known path.
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                key.url.as_str().trim_end_matches('/')
            )
            .parse::<url::Url>()
            .map_err(|e| e.to_string())?;
            let (doc, _) = self.get_json(&discovery).await?;
            let uri = doc
                .get("jwks_uri")
                .and_then(|v| v.as_str())
                .ok_or("the discovery document has no jwks_uri")?;
            uri.parse::<url::Url>()
                .map_err(|e| format!("jwks_uri: {e}"))?
        } else {
            key.url.clone()
        };
        let (jwks, max_age) = self.get_json(&jwks_url).await?;
        let (keys, problems) = usable_keys(&jwks);
        for p in &problems {
            tracing::debug!(url = %jwks_url, problem = %p, "key not used");
        }
        if keys.0.is_empty() {
            return Err(format!("no usable key ({})", problems.join("; ")));
        }
        Ok((keys, max_age))
    }

    /// A JSON document and its cache time, within bounds.
    async fn get_json(&self, url: &url::Url) -> Result<(serde_json::Value, Duration), String> {
        if !secure(url) {
            return Err(format!("{url} is neither https nor loopback"));
        }
        let mut response = self
            .http
            .get(url.clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| crate::resource::describe(&e))?;
        let max_age = response
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|d| d.trim().strip_prefix("max-age=")?.parse::<u64>().ok())
            .map_or(DEFAULT_AGE, |s| {
                Duration::from_secs(s).clamp(MIN_AGE, MAX_AGE)
            });
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| crate::resource::describe(&e))?
        {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(format!("{url}: larger than {MAX_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let value = serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON ({e})"))?;
        Ok((value, max_age))
    }
}

/// https, or http to a loopback host (tests, sidecars).
pub fn secure(url: &url::Url) -> bool {
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
