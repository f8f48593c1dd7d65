//! The verified-secret cache: after a secret passed Argon2 once, the same
//! (holder, secret) pair costs one HMAC instead of one Argon2 run until the
//! entry expires.
//!
//! What is stored is `HMAC-SHA256(process key, kind, id, secret)`, keyed
//! with a random per-process key, so a memory dump yields nothing usable
//! offline. Entries carry the fingerprint of the holder's secrets as
//! configured when they were made: a reload that changes them changes the
//! fingerprint, and every old entry misses. Only successes are cached; a
//! wrong secret always pays for Argon2.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lc_rs::hmac;
use time::OffsetDateTime;

use super::client::{ClientSecret, PresentedSecret, Secrets};

/// How long a verified secret is trusted without re-running Argon2.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// How many (holder, secret) pairs are remembered at most.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;

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
    /// Argon2 work done, in thousandths of a default verification.
    argon2_work: AtomicU64,
}

/// Counters of the authentication paths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheStats {
    /// Authentications answered from the cache.
    pub hits: u64,
    /// Argon2 verifications (misses, wrong secrets, unknown clients).
    pub argon2_runs: u64,
    /// Argon2 work done, in default verifications.
    pub argon2_work: f64,
    /// Entries held now.
    pub entries: usize,
}

/// Who holds the secrets: a kind of principal (client, API resource) and
/// its id.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub kind: u8,
    pub id: &'a str,
    pub secrets: &'a Secrets,
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
            argon2_work: AtomicU64::new(0),
        }
    }

    fn tag(&self, holder: Holder<'_>, secret: &PresentedSecret) -> [u8; 32] {
        let id = holder.id.as_bytes();
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&[holder.kind]);
        // Length-prefix the id so ("ab", "c") and ("a", "bc") differ.
        ctx.update(&(id.len() as u64).to_be_bytes());
        ctx.update(id);
        ctx.update(secret.expose().as_bytes());
        let mut tag = [0u8; 32];
        tag.copy_from_slice(ctx.sign().as_ref());
        tag
    }

    /// Whether `secret` was verified for `holder` (with its current
    /// secrets) and the entry is still fresh at `now`.
    pub(crate) fn is_verified(
        &self,
        holder: Holder<'_>,
        secret: &PresentedSecret,
        now: OffsetDateTime,
    ) -> bool {
        let tag = self.tag(holder, secret);
        match self.entries.get(&tag) {
            Some(e) if e.secrets_fingerprint == holder.secrets.fingerprint && now < e.expires => {
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

    /// Remembers that `secret` matched `matched` of `holder` at `now`. The
    /// entry never outlives the secret's own expiry.
    pub fn remember(
        &self,
        holder: Holder<'_>,
        matched: &ClientSecret,
        secret: &PresentedSecret,
        now: OffsetDateTime,
    ) {
        let mut expires = now + self.ttl;
        if let Some(e) = matched.expires {
            expires = expires.min(e);
        }
        let entry = Entry {
            secrets_fingerprint: holder.secrets.fingerprint,
            expires,
        };
        self.entries.insert(self.tag(holder, secret), entry);
    }

    /// Counts one Argon2 verification of `work` default verifications.
    pub(crate) fn count_argon2(&self, work: f64) {
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        self.count_padding(work);
    }

    /// Counts Argon2 work done only so that a failure costs what every
    /// failure costs (not a verification).
    pub(crate) fn count_padding(&self, work: f64) {
        self.argon2_work
            .fetch_add((work * 1000.0).round() as u64, Ordering::Relaxed);
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            argon2_runs: self.argon2_runs.load(Ordering::Relaxed),
            argon2_work: self.argon2_work.load(Ordering::Relaxed) as f64 / 1000.0,
            entries: self.entries.len(),
        }
    }
}

impl Default for SecretCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_TTL)
    }
}
