//! The replay store on Redis, for several replicas: `SET key 1 NX PX ttl`
//! is "insert if absent" atomically, and Redis forgets the entry when the
//! assertion or proof it stands for has expired. Redis unreachable: the
//! requests that need it are refused as `temporarily_unavailable` (never
//! let through: that would allow a replay), and `/healthz` and
//! `tollgate_replay_store_up` say so; everything else keeps working.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;

use crate::observe::log_limit::LogLimit;
use tollgate_jose::replay::{ReplayFuture, ReplayStore, ReplayUnavailable};

/// How long one command may take before the request is refused.
const TIMEOUT: Duration = Duration::from_millis(500);

pub(crate) struct RedisReplay {
    connection: ConnectionManager,
    up: AtomicBool,
    warned: LogLimit,
}

impl RedisReplay {
    /// Connects lazily: an unreachable Redis at start does not stop the
    /// server.
    pub(crate) fn new(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(|e| e.to_string())?;
        Ok(Self {
            connection,
            up: AtomicBool::new(true),
            warned: LogLimit::new(Duration::from_secs(30)),
        })
    }

    /// Whether the last command reached Redis.
    pub(crate) fn up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }
}

impl ReplayStore for RedisReplay {
    fn first_use(
        &self,
        key: [u8; 32],
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_> {
        Box::pin(async move {
            let ttl = (until - now).whole_milliseconds().max(1);
            let mut connection = self.connection.clone();
            let set: redis::RedisResult<Option<String>> = redis::cmd("SET")
                .arg(format!("tollgate:used:{}", hex::encode(&key[..16])))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl as u64)
                .query_async(&mut connection)
                .await;
            match set {
                Ok(answer) => {
                    if !self.up.swap(true, Ordering::Relaxed) {
                        tracing::info!("the replay store (Redis) is reachable again");
                    }
                    Ok(answer.is_some())
                }
                Err(e) => {
                    self.up.store(false, Ordering::Relaxed);
                    if let Some(held_back) = self.warned.allow() {
                        tracing::error!(error = %e, similar_since_last = held_back, "the replay store (Redis) is unreachable; requests with assertions or DPoP proofs are refused");
                    }
                    Err(ReplayUnavailable)
                }
            }
        })
    }
}
