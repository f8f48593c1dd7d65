//! Single use: the `jti`s of client assertions and DPoP proofs, each
//! remembered until it expires, behind one small interface ("insert if
//! absent", atomically). Each identifier belongs to a holder (the client,
//! or the key a token is bound to), and once the store is half full a
//! holder may keep at most its quota of live identifiers: one client that
//! floods the store is refused alone, and the others' assertions and
//! proofs go on; while there is room, a busy client is not held back. In memory here,
//! bounded; a shared store for replicas implements the same trait outside
//! the core.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use time::OffsetDateTime;

/// Why an identifier could not be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// The store could not answer (unreachable, or full): the request
    /// that needs it cannot be judged, and is refused as
    /// `temporarily_unavailable`.
    Unavailable,
    /// The holder has its quota of live identifiers: its request is
    /// refused, and only its.
    OverQuota,
}

/// What [`ReplayStore::first_use`] returns.
pub type ReplayFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, ReplayError>> + Send + 'a>>;

/// A store of used identifiers.
pub trait ReplayStore: Send + Sync {
    /// Records `key`, of `holder`, as used until `until`. `Ok(true)` the
    /// first time, `Ok(false)` when it was already used (and has not
    /// expired).
    fn first_use(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_>;

    /// Whether `key` is recorded as used (and has not expired) at `now`,
    /// without recording it: a revocation's mark (a refresh-token family)
    /// is read here and written by [`Self::first_use`].
    fn used(&self, key: [u8; 32], now: OffsetDateTime) -> ReplayFuture<'_>;

    /// Moves the turn of `key`, of `holder`, from `from` to `from + 1`,
    /// kept until `until`: `Ok(true)` when it stood at `from` — or was not
    /// held at all, as a family's turn before its first step, or one the
    /// store forgot (restarted, expired) — and `Ok(false)` when it stood
    /// elsewhere (a turn taken before: a replay). One entry per key however
    /// many turns: a refresh-token family's rotations hold one identifier,
    /// not one per token.
    fn advance(
        &self,
        key: [u8; 32],
        holder: &str,
        from: u64,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_>;

    /// Identifiers held now and the most the store holds, where it can
    /// tell.
    fn fill(&self) -> Option<(usize, usize)> {
        None
    }
}

/// How many identifiers the memory store holds at most: about 70 MB.
pub const MEMORY_CAPACITY: usize = 1_000_000;

/// How many live identifiers one holder may keep by default: a tenth of
/// the memory store, so ten clients flooding at once are needed to fill
/// it, and a client that asks for a token every second with one-hour
/// assertions needs 3,600.
pub const DEFAULT_MAX_PER_HOLDER: usize = 100_000;

/// The memory store: one process's view. With several replicas, a replayed
/// assertion can succeed once per replica; use a shared store there.
pub struct MemoryReplay {
    capacity: usize,
    max_per_holder: usize,
    used: Mutex<Used>,
}

#[derive(Default)]
struct Used {
    /// 128 bits of each key (collisions are beyond reach) → what it holds.
    keys: HashMap<u128, Held>,
    /// The keys by expiry, so that what expired leaves in the order it
    /// expires, each once: no scan of the whole store.
    by_expiry: BTreeMap<i64, Vec<u128>>,
    /// Live identifiers per holder (64 bits of its SHA-256).
    per_holder: HashMap<u64, usize>,
}

/// One key's entry.
#[derive(Clone, Copy)]
struct Held {
    /// Unix seconds.
    until: i64,
    /// 64 bits of the holder's SHA-256.
    holder: u64,
    /// Its turn ([`ReplayStore::advance`]); 0 for an identifier used once.
    turn: u64,
}

impl Used {
    /// Forgets every identifier that expired by `now`.
    fn expire(&mut self, now: i64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if *entry.key() > now {
                break;
            }
            let (expiry, keys) = entry.remove_entry();
            for key in keys {
                // A key used again after it expired has a later expiry
                // of its own: only the entry of this expiry goes.
                if let Some(&Held { until, holder, .. }) = self.keys.get(&key)
                    && until == expiry
                {
                    self.keys.remove(&key);
                    if let Some(n) = self.per_holder.get_mut(&holder) {
                        *n -= 1;
                        if *n == 0 {
                            self.per_holder.remove(&holder);
                        }
                    }
                }
            }
        }
    }
}

impl MemoryReplay {
    /// A store of at most `capacity` identifiers, at most `max_per_holder`
    /// of them one holder's.
    pub fn new(capacity: usize, max_per_holder: usize) -> Self {
        Self {
            capacity,
            max_per_holder,
            used: Mutex::new(Used::default()),
        }
    }

    /// Records `key` if absent; if present, `step` says whether it moves
    /// on (`Some(turn)`: to that turn) or is a replay (`None`).
    fn record(
        &self,
        key: [u8; 32],
        holder: &str,
        (until, now): (OffsetDateTime, OffsetDateTime),
        turn: u64,
        step: impl FnOnce(u64) -> Option<u64>,
    ) -> Result<bool, ReplayError> {
        let short = u128::from_be_bytes(key[..16].try_into().expect("16 bytes"));
        let holder = u64::from_be_bytes(
            crate::digest::sha256(holder.as_bytes())[..8]
                .try_into()
                .expect("8 bytes"),
        );
        let (now, until) = (now.unix_timestamp(), until.unix_timestamp());
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        used.expire(now);
        if let Some(held) = used.keys.get_mut(&short) {
            return Ok(match step(held.turn) {
                Some(next) => {
                    held.turn = next;
                    true
                }
                None => false,
            });
        }
        if until <= now {
            // Nothing to remember: it cannot be used again.
            return Ok(true);
        }
        // Quotas bind once the store is half full: a flood meets them long
        // before the store is full, a busy client alone never does.
        if used.keys.len() >= self.capacity / 2
            && used.per_holder.get(&holder).copied().unwrap_or(0) >= self.max_per_holder
        {
            return Err(ReplayError::OverQuota);
        }
        // Full of live identifiers: refusing is safe, forgetting one would
        // let it be replayed.
        if used.keys.len() >= self.capacity {
            return Err(ReplayError::Unavailable);
        }
        used.keys.insert(
            short,
            Held {
                until,
                holder,
                turn,
            },
        );
        used.by_expiry.entry(until).or_default().push(short);
        *used.per_holder.entry(holder).or_default() += 1;
        Ok(true)
    }

    fn is_used(&self, key: [u8; 32], now: OffsetDateTime) -> bool {
        let short = u128::from_be_bytes(key[..16].try_into().expect("16 bytes"));
        let used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        used.keys
            .get(&short)
            .is_some_and(|held| held.until > now.unix_timestamp())
    }

    /// Identifiers held now.
    pub fn len(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys
            .len()
    }

    /// Whether no identifier is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayStore for MemoryReplay {
    fn first_use(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_> {
        // Used before: a replay, whatever it held.
        let result = self.record(key, holder, (until, now), 0, |_| None);
        Box::pin(std::future::ready(result))
    }

    fn advance(
        &self,
        key: [u8; 32],
        holder: &str,
        from: u64,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_> {
        let next = from.saturating_add(1);
        let result = self.record(key, holder, (until, now), next, |turn| {
            (turn == from).then_some(next)
        });
        Box::pin(std::future::ready(result))
    }

    fn used(&self, key: [u8; 32], now: OffsetDateTime) -> ReplayFuture<'_> {
        Box::pin(std::future::ready(Ok(self.is_used(key, now))))
    }

    fn fill(&self) -> Option<(usize, usize)> {
        Some((self.len(), self.capacity))
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
    async fn used_reads_a_live_identifier_without_recording_one() {
        let store = MemoryReplay::new(10, 10);
        let until = NOW + time::Duration::minutes(5);
        assert_eq!(store.used(key(1), NOW).await, Ok(false));
        assert!(store.is_empty(), "a read records nothing");
        assert_eq!(store.first_use(key(1), "a", until, NOW).await, Ok(true));
        assert_eq!(store.used(key(1), NOW).await, Ok(true));
        assert_eq!(store.used(key(1), until).await, Ok(false), "expired");
    }

    #[tokio::test]
    async fn a_turn_moves_on_once_from_where_it_stands_and_holds_one_entry() {
        let store = MemoryReplay::new(10, 10);
        let until = NOW + time::Duration::days(30);
        let step = |from| store.advance(key(1), "web", from, until, NOW);
        assert_eq!(step(0).await, Ok(true), "a family's first step");
        assert_eq!(step(0).await, Ok(false), "the same turn again: a replay");
        assert_eq!(step(1).await, Ok(true));
        assert_eq!(step(2).await, Ok(true));
        assert_eq!(step(1).await, Ok(false), "an older turn");
        assert_eq!(step(5).await, Ok(false), "a turn never reached");
        assert_eq!(step(3).await, Ok(true));
        assert_eq!(store.len(), 1, "four turns, one entry");
        // Forgotten (expired, or a store that restarted): the turn presented
        // is taken as where it stands.
        let later = until + time::Duration::seconds(1);
        let then = later + time::Duration::days(1);
        assert_eq!(store.advance(key(1), "web", 7, then, later).await, Ok(true));
        assert_eq!(
            store.advance(key(1), "web", 7, then, later).await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn an_identifier_is_used_once_until_it_expires() {
        let store = MemoryReplay::new(10, 10);
        let until = NOW + time::Duration::minutes(5);
        assert_eq!(store.first_use(key(1), "a", until, NOW).await, Ok(true));
        assert_eq!(store.first_use(key(1), "a", until, NOW).await, Ok(false));
        let later = until + time::Duration::seconds(1);
        assert_eq!(
            store
                .first_use(key(1), "a", later + time::Duration::minutes(5), later)
                .await,
            Ok(true)
        );
    }

    #[tokio::test]
    async fn a_full_store_forgets_only_what_expired_and_refuses_the_rest() {
        let store = MemoryReplay::new(3, 3);
        let soon = NOW + time::Duration::seconds(10);
        let late = NOW + time::Duration::hours(1);
        for n in 0..3 {
            assert_eq!(
                store
                    .first_use(key(n), "a", if n == 0 { soon } else { late }, NOW)
                    .await,
                Ok(true)
            );
        }
        assert_eq!(
            store.first_use(key(9), "b", late, NOW).await,
            Err(ReplayError::Unavailable),
            "full of live ones"
        );
        let after = soon + time::Duration::seconds(1);
        assert_eq!(
            store.first_use(key(9), "b", late, after).await,
            Ok(true),
            "the expired one made room"
        );
        assert_eq!(
            store.first_use(key(1), "a", late, after).await,
            Ok(false),
            "live ones are kept"
        );
        assert!(store.len() <= 3);
    }

    #[tokio::test]
    async fn a_holder_over_its_quota_is_refused_alone() {
        // Half of 6: quotas bind from 3 ids held on.
        let store = MemoryReplay::new(6, 3);
        let soon = NOW + time::Duration::seconds(10);
        let late = NOW + time::Duration::hours(1);
        for n in 0..3 {
            let until = if n == 0 { soon } else { late };
            assert_eq!(store.first_use(key(n), "flood", until, NOW).await, Ok(true));
        }
        assert_eq!(
            store.first_use(key(3), "flood", late, NOW).await,
            Err(ReplayError::OverQuota)
        );
        assert_eq!(store.first_use(key(4), "victim", late, NOW).await, Ok(true));
        // Its first identifier expires: room for one more of its.
        let after = soon + time::Duration::seconds(1);
        assert_eq!(
            store.first_use(key(3), "flood", late, after).await,
            Ok(true)
        );
        assert_eq!(
            store.first_use(key(5), "flood", late, after).await,
            Err(ReplayError::OverQuota)
        );
        // A replay is a replay, whatever the quota.
        assert_eq!(
            store.first_use(key(1), "flood", late, after).await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn while_the_store_has_room_a_busy_holder_is_not_held_back() {
        let store = MemoryReplay::new(100, 3);
        let late = NOW + time::Duration::hours(1);
        // 50 of one holder's, far over its quota of 3: room left.
        for n in 0..50 {
            assert_eq!(store.first_use(key(n), "busy", late, NOW).await, Ok(true));
        }
        assert_eq!(
            store.first_use(key(50), "busy", late, NOW).await,
            Err(ReplayError::OverQuota),
            "half full: its quota binds"
        );
        assert_eq!(store.first_use(key(51), "other", late, NOW).await, Ok(true));
    }

    #[tokio::test]
    async fn an_identifier_used_again_after_it_expired_is_kept_until_its_new_expiry() {
        let store = MemoryReplay::new(10, 10);
        let first = NOW + time::Duration::seconds(10);
        assert_eq!(store.first_use(key(1), "a", first, NOW).await, Ok(true));
        let later = first + time::Duration::seconds(1);
        let second = later + time::Duration::hours(1);
        assert_eq!(store.first_use(key(1), "a", second, later).await, Ok(true));
        assert_eq!(store.first_use(key(1), "a", second, later).await, Ok(false));
        assert_eq!(store.len(), 1);
    }
}
