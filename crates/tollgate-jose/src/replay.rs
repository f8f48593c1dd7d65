//! Single use: the `jti`s of client assertions and DPoP proofs, each
//! remembered until it expires, behind one small interface ("insert if
//! absent", atomically). In memory here, bounded; a shared store for
//! replicas implements the same trait outside the core.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use time::OffsetDateTime;

/// The store could not answer (unreachable, or full): the request that
/// needs it cannot be judged, and is refused as `temporarily_unavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayUnavailable;

pub type ReplayFuture<'a> =
    Pin<Box<dyn Future<Output = Result<bool, ReplayUnavailable>> + Send + 'a>>;

/// A store of used identifiers.
pub trait ReplayStore: Send + Sync {
    /// Records `key` as used until `until`. `Ok(true)` the first time,
    /// `Ok(false)` when it was already used (and has not expired).
    fn first_use(
        &self,
        key: [u8; 32],
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_>;
}

/// How many identifiers the memory store holds at most: about 30 MB.
pub const MEMORY_CAPACITY: usize = 1_000_000;

/// The memory store: one process's view. With several replicas, a replayed
/// assertion can succeed once per replica; use a shared store there.
pub struct MemoryReplay {
    capacity: usize,
    /// 128 bits of each key (collisions are beyond reach) → expiry (Unix
    /// seconds).
    used: Mutex<HashMap<u128, i64>>,
}

impl MemoryReplay {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            used: Mutex::new(HashMap::new()),
        }
    }

    fn insert(
        &self,
        key: [u8; 32],
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayUnavailable> {
        let short = u128::from_be_bytes(key[..16].try_into().expect("16 bytes"));
        let now = now.unix_timestamp();
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        match used.get(&short) {
            Some(&expires) if expires > now => return Ok(false),
            _ => {}
        }
        if used.len() >= self.capacity {
            used.retain(|_, expires| *expires > now);
            // Still full of live identifiers: refusing is safe, forgetting
            // one would let it be replayed.
            if used.len() >= self.capacity {
                return Err(ReplayUnavailable);
            }
        }
        used.insert(short, until.unix_timestamp());
        Ok(true)
    }

    /// Identifiers held now.
    pub fn len(&self) -> usize {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayStore for MemoryReplay {
    fn first_use(
        &self,
        key: [u8; 32],
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_> {
        let result = self.insert(key, until, now);
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn key(n: u32) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&n.to_be_bytes());
        k
    }

    #[tokio::test]
    async fn an_identifier_is_used_once_until_it_expires() {
        let store = MemoryReplay::new(10);
        let until = NOW + time::Duration::minutes(5);
        assert_eq!(store.first_use(key(1), until, NOW).await, Ok(true));
        assert_eq!(store.first_use(key(1), until, NOW).await, Ok(false));
        let later = until + time::Duration::seconds(1);
        assert_eq!(
            store
                .first_use(key(1), later + time::Duration::minutes(5), later)
                .await,
            Ok(true)
        );
    }

    #[tokio::test]
    async fn a_full_store_forgets_only_what_expired_and_refuses_the_rest() {
        let store = MemoryReplay::new(3);
        let soon = NOW + time::Duration::seconds(10);
        let late = NOW + time::Duration::hours(1);
        for n in 0..3 {
            assert_eq!(
                store
                    .first_use(key(n), if n == 0 { soon } else { late }, NOW)
                    .await,
                Ok(true)
            );
        }
        assert_eq!(
            store.first_use(key(9), late, NOW).await,
            Err(ReplayUnavailable),
            "full of live ones"
        );
        let after = soon + time::Duration::seconds(1);
        assert_eq!(
            store.first_use(key(9), late, after).await,
            Ok(true),
            "the expired one made room"
        );
        assert_eq!(
            store.first_use(key(1), late, after).await,
            Ok(false),
            "live ones are kept"
        );
        assert!(store.len() <= 3);
    }
}
