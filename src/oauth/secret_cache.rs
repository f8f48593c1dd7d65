//! The verified-secret cache: after a client's secret passed Argon2 once,
//! the same (client id, secret) pair costs one HMAC instead of one Argon2
//! run until the entry expires.
//!
//! What is stored is `HMAC-SHA256(process key, client id, secret)`, keyed
//! with a random per-process key, so a memory dump yields nothing usable
//! offline. Entries carry the fingerprint of the client's secrets as
//! configured when they were made: a reload that changes a client's secrets
//! changes the fingerprint, and every old entry of that client misses.
//! Only successes are cached; a wrong secret always pays for Argon2.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lc_rs::hmac;
use time::OffsetDateTime;

use super::client::{Client, ClientSecret, PresentedSecret};

/// How long a verified secret is trusted without re-running Argon2.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// How many (client, secret) pairs are remembered at most.
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Clone, Copy)]
struct Entry {
    secrets_fingerprint: [u8; 32],
    expires: OffsetDateTime,
}

pub struct SecretCache {
    key: hmac::Key,
    entries: quick_cache::sync::Cache<[u8; 32], Entry>,
    ttl: Duration,
    hits: AtomicU64,
    argon2_runs: AtomicU64,
}

/// Counters of the authentication paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Authentications answered from the cache.
    pub hits: u64,
    /// Argon2 verifications run (misses, wrong secrets, unknown clients).
    pub argon2_runs: u64,
    /// Entries held now.
    pub entries: usize,
}

impl SecretCache {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).expect("system random source");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            entries: quick_cache::sync::Cache::new(capacity),
            ttl,
            hits: AtomicU64::new(0),
            argon2_runs: AtomicU64::new(0),
        }
    }

    fn tag(&self, client: &Client, secret: &PresentedSecret) -> [u8; 32] {
        let id = client.id.as_str().as_bytes();
        let mut ctx = hmac::Context::with_key(&self.key);
        // Length-prefix the id so ("ab", "c") and ("a", "bc") differ.
        ctx.update(&(id.len() as u64).to_be_bytes());
        ctx.update(id);
        ctx.update(secret.expose().as_bytes());
        let mut tag = [0u8; 32];
        tag.copy_from_slice(ctx.sign().as_ref());
        tag
    }

    /// Whether `secret` was verified for `client` (with its current secrets)
    /// and the entry is still fresh at `now`.
    pub fn is_verified(
        &self,
        client: &Client,
        secret: &PresentedSecret,
        now: OffsetDateTime,
    ) -> bool {
        let tag = self.tag(client, secret);
        match self.entries.get(&tag) {
            Some(e) if e.secrets_fingerprint == client.secrets_fingerprint && now < e.expires => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(_) => {
                self.entries.remove(&tag);
                false
            }
            None => false,
        }
    }

    /// Remembers that `secret` matched `matched` of `client` at `now`. The
    /// entry never outlives the secret's own expiry.
    pub fn remember(
        &self,
        client: &Client,
        matched: &ClientSecret,
        secret: &PresentedSecret,
        now: OffsetDateTime,
    ) {
        let mut expires = now + self.ttl;
        if let Some(e) = matched.expires {
            expires = expires.min(e);
        }
        let entry = Entry {
            secrets_fingerprint: client.secrets_fingerprint,
            expires,
        };
        self.entries.insert(self.tag(client, secret), entry);
    }

    /// Counts one Argon2 verification (called by client authentication).
    pub fn count_argon2(&self) {
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            argon2_runs: self.argon2_runs.load(Ordering::Relaxed),
            entries: self.entries.len(),
        }
    }
}

impl Default for SecretCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_TTL)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use time::macros::datetime;

    use super::*;
    use crate::config::Config;
    use crate::oauth::client_auth::{authenticate, authenticate_cached, hash_secret};
    use crate::oauth::{AuthMethod, ClientCredentials};

    fn config(secrets: &[(&str, Option<&str>)], enabled: bool) -> Config {
        let mut toml = format!(
            "[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"c\"\nenabled = {enabled}\nallowed_scopes = [\"api1\"]\n"
        );
        for (hash, expires) in secrets {
            toml += &format!("[[clients.secrets]]\nhash = \"{hash}\"\n");
            if let Some(e) = expires {
                toml += &format!("expires = {e}\n");
            }
        }
        Config::from_toml(&toml, Path::new("identity.toml")).unwrap()
    }

    fn creds(secret: &str) -> ClientCredentials {
        ClientCredentials {
            client_id: "c".into(),
            secret: PresentedSecret::new(secret.into()),
            method: AuthMethod::ClientSecretBasic,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    #[test]
    fn a_verified_secret_is_answered_from_the_cache_and_a_wrong_one_never_is() {
        let cache = SecretCache::default();
        let hash = hash_secret("right").unwrap();
        let cfg = config(&[(&hash, None)], true);
        assert!(
            authenticate_cached(&cfg, &cache, &creds("right"), NOW).is_none(),
            "cold"
        );
        authenticate(&cfg, &cache, &creds("right"), NOW).unwrap();
        assert_eq!(cache.stats().argon2_runs, 1);
        assert!(
            authenticate_cached(&cfg, &cache, &creds("right"), NOW).is_some(),
            "warm"
        );
        assert_eq!(cache.stats().hits, 1);
        // A wrong secret after the right one: no cache hit, full Argon2, refused.
        assert!(authenticate_cached(&cfg, &cache, &creds("wrong"), NOW).is_none());
        assert!(authenticate(&cfg, &cache, &creds("wrong"), NOW).is_err());
        assert_eq!(cache.stats().argon2_runs, 2);
        assert!(
            authenticate_cached(&cfg, &cache, &creds("wrong"), NOW).is_none(),
            "failures are not cached"
        );
    }

    #[test]
    fn unknown_clients_pay_for_argon2_too() {
        let cache = SecretCache::default();
        let cfg = config(&[(&hash_secret("right").unwrap(), None)], true);
        let mut unknown = creds("right");
        unknown.client_id = "nobody".into();
        assert!(authenticate(&cfg, &cache, &unknown, NOW).is_err());
        assert_eq!(cache.stats().argon2_runs, 1);
    }

    #[test]
    fn changed_secrets_or_a_disabled_client_invalidate_cached_verifications() {
        let cache = SecretCache::default();
        let old = hash_secret("right").unwrap();
        let before = config(&[(&old, None)], true);
        authenticate(&before, &cache, &creds("right"), NOW).unwrap();
        assert!(authenticate_cached(&before, &cache, &creds("right"), NOW).is_some());
        // A reload that leaves the client's secrets alone keeps the entry.
        let unchanged = config(&[(&old, None)], true);
        assert!(authenticate_cached(&unchanged, &cache, &creds("right"), NOW).is_some());
        // The same secret re-hashed (a rotation that kept the value) is a
        // different configuration of secrets: verify again.
        let rehashed = config(&[(&hash_secret("right").unwrap(), None)], true);
        assert!(authenticate_cached(&rehashed, &cache, &creds("right"), NOW).is_none());
        let disabled = config(&[(&old, None)], false);
        assert!(authenticate_cached(&disabled, &cache, &creds("right"), NOW).is_none());
    }

    #[test]
    fn entries_expire_with_the_ttl_or_the_secret_whichever_is_first() {
        let cache = SecretCache::new(100, Duration::from_secs(600));
        let hash = hash_secret("right").unwrap();
        let cfg = config(&[(&hash, Some("2026-11-25T12:05:00Z"))], true);
        authenticate(&cfg, &cache, &creds("right"), NOW).unwrap();
        let at = |m: i64| NOW + time::Duration::minutes(m);
        assert!(authenticate_cached(&cfg, &cache, &creds("right"), at(4)).is_some());
        assert!(
            authenticate_cached(&cfg, &cache, &creds("right"), at(5)).is_none(),
            "secret expired"
        );
        let forever = config(&[(&hash, None)], true);
        authenticate(&forever, &cache, &creds("right"), NOW).unwrap();
        assert!(authenticate_cached(&forever, &cache, &creds("right"), at(9)).is_some());
        assert!(
            authenticate_cached(&forever, &cache, &creds("right"), at(10)).is_none(),
            "ttl"
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = SecretCache::new(50, DEFAULT_TTL);
        let hash = hash_secret("right").unwrap();
        let cfg = config(&[(&hash, None)], true);
        let client = cfg.client("c").unwrap();
        for i in 0..500 {
            cache.remember(
                client,
                &client.secrets[0],
                &PresentedSecret::new(format!("s{i}")),
                NOW,
            );
        }
        assert!(cache.stats().entries <= 60, "{}", cache.stats().entries);
    }
}
