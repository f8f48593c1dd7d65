//! The replay store in force, chosen at start: in memory, or Redis shared
//! by the replicas; its health and what threatens single use.

/// The replay store in force (chosen at start).
pub(crate) enum Replay {
    Memory(tollgate_jose::replay::MemoryReplay),
    Redis(crate::runtime::redis_replay::RedisReplay),
}

impl Replay {
    pub(super) fn of(
        config: &crate::config::ReplaySetting,
        capacity: usize,
        max_per_client: usize,
    ) -> Self {
        use crate::config::ReplaySetting;
        let memory = || {
            Self::Memory(tollgate_jose::replay::MemoryReplay::new(
                capacity,
                max_per_client,
            ))
        };
        match config {
            ReplaySetting::Memory => memory(),
            ReplaySetting::Redis(url) => {
                match crate::runtime::redis_replay::RedisReplay::new(url, max_per_client) {
                    Ok(redis) => Self::Redis(redis),
                    // Validation checked the URL; a client that still refuses
                    // it is a bug, and memory is the safe side for one process.
                    Err(e) => {
                        tracing::error!(error = %e, "the Redis replay store cannot be used; keeping used ids in memory");
                        memory()
                    }
                }
            }
        }
    }

    pub(crate) fn store(&self) -> &dyn tollgate_jose::replay::ReplayStore {
        match self {
            Self::Memory(m) => m,
            Self::Redis(r) => r,
        }
    }

    /// `memory` or `redis`, and whether it answers (and has room).
    pub(crate) fn health(&self) -> (&'static str, bool) {
        match self {
            Self::Memory(m) => ("memory", m.len() < self.capacity()),
            Self::Redis(r) => ("redis", r.up()),
        }
    }

    fn capacity(&self) -> usize {
        self.store().fill().map_or(usize::MAX, |(_, c)| c)
    }

    /// Identifiers held and the most the store holds, where known.
    pub(crate) fn fill(&self) -> Option<(usize, usize)> {
        self.store().fill()
    }

    /// What threatens single use, if anything: a store nine-tenths full,
    /// or a Redis that may evict used ids.
    pub(crate) fn warning(&self) -> Option<String> {
        if let Some((held, capacity)) = self.fill()
            && held >= capacity / 10 * 9
        {
            return Some(format!(
                "{held} of {capacity} ids held: new assertions and DPoP proofs are refused when it is full"
            ));
        }
        match self {
            Self::Redis(r) => r.eviction(),
            Self::Memory(_) => None,
        }
    }

    /// Reads what can be read once at start (Redis's eviction policy).
    pub(crate) async fn probe(&self) {
        if let Self::Redis(r) = self {
            r.check_eviction().await;
        }
    }
}
