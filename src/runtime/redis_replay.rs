//! The replay store on Redis, for several replicas: `SET key 1 NX PX ttl`
//! is "insert if absent" atomically, and Redis forgets the entry when the
//! assertion or proof it stands for has expired. Redis unreachable: the
//! requests that need it are refused as `temporarily_unavailable` (never
//! let through: that would allow a replay), and `/healthz` and
//! `tollgate_replay_store_up` say so; everything else keeps working.
//!
//! Each client's live ids are also in a sorted set by expiry, and one
//! script does the whole judgement atomically: forget the client's expired
//! ids, answer a replay (or move a refresh-token family's turn on, the
//! entry's value, when it stands where the token says), refuse a client at
//! its quota, else record. A Redis
//! that may evict keys (any `maxmemory-policy` but `noeviction`) could
//! forget a used id and let it be replayed: that is said at start, in the
//! log and in `/healthz`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;

use crate::observe::log_limit::LogLimit;
use tollgate_jose::replay::{ReplayError, ReplayFuture, ReplayStore};

/// How long one command may take before the request is refused.
const TIMEOUT: Duration = Duration::from_millis(500);

/// KEYS: the id, the holder's set. ARGV: now (ms), the id's expiry (ms),
/// the quota, the id's member name, the turn it must stand at ('' for an
/// id used once: any entry is a replay), the turn to record. Returns 1
/// recorded, 0 used before (or standing at another turn), -1 over the
/// quota.
const RECORD: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local held = redis.call('GET', KEYS[1])
if held then
  if ARGV[5] == '' or held ~= ARGV[5] then return 0 end
  redis.call('SET', KEYS[1], ARGV[6], 'KEEPTTL')
  return 1
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[6], 'PXAT', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
redis.call('PEXPIREAT', KEYS[2], latest)
return 1
"#;

pub(crate) struct RedisReplay {
    connection: ConnectionManager,
    script: redis::Script,
    max_per_holder: usize,
    up: AtomicBool,
    warned: LogLimit,
    /// What is wrong with the server's eviction policy, once read.
    eviction: Mutex<Option<String>>,
}

impl RedisReplay {
    /// Connects lazily: an unreachable Redis at start does not stop the
    /// server.
    pub(crate) fn new(url: &str, max_per_holder: usize) -> Result<Self, String> {
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
            script: redis::Script::new(RECORD),
            max_per_holder,
            up: AtomicBool::new(true),
            warned: LogLimit::new(Duration::from_secs(30)),
            eviction: Mutex::new(None),
        })
    }

    /// Reads the server's `maxmemory-policy`: under any but `noeviction`
    /// Redis may drop a used id before it expires, and the id could be
    /// replayed. Says so in the log; [`Self::eviction`] keeps it for
    /// `/healthz`.
    pub(crate) async fn check_eviction(&self) {
        let mut connection = self.connection.clone();
        let answer: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(&mut connection)
            .await;
        let problem = match answer.as_deref() {
            Ok([_, policy]) if policy == "noeviction" => None,
            Ok([_, policy]) => Some(format!(
                "maxmemory-policy is {policy}: Redis may evict used ids before they expire and let them be replayed; set noeviction"
            )),
            Ok(_) => Some("maxmemory-policy cannot be read (CONFIG GET answered nothing)".into()),
            Err(e) => Some(format!("maxmemory-policy cannot be read ({e})")),
        };
        if let Some(problem) = &problem {
            tracing::warn!(problem = %problem, "the replay store (Redis) may forget used ids");
        }
        *self.eviction.lock().unwrap_or_else(|p| p.into_inner()) = problem;
    }

    /// What is wrong with the eviction policy, if anything.
    pub(crate) fn eviction(&self) -> Option<String> {
        self.eviction
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the last command reached Redis.
    pub(crate) fn up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }
}

impl RedisReplay {
    /// Runs [`RECORD`]: `turn` is `None` for an id used once, else the
    /// turn it must stand at and the one to move it to.
    fn record(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
        turn: Option<(u64, u64)>,
    ) -> ReplayFuture<'_> {
        let holder = hex::encode(&tollgate_jose::digest::sha256(holder.as_bytes())[..16]);
        let (expected, next) = match turn {
            Some((from, next)) => (from.to_string(), next.to_string()),
            None => (String::new(), "1".to_owned()),
        };
        Box::pin(async move {
            let id = hex::encode(&key[..16]);
            let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
            let mut connection = self.connection.clone();
            let set: redis::RedisResult<i64> = self
                .script
                .key(format!("tollgate:used:{id}"))
                .key(format!("tollgate:holder:{holder}"))
                .arg(ms(now))
                .arg(ms(until).max(ms(now) + 1))
                .arg(self.max_per_holder)
                .arg(id)
                .arg(expected)
                .arg(next)
                .invoke_async(&mut connection)
                .await;
            match set {
                Ok(answer) => {
                    if !self.up.swap(true, Ordering::Relaxed) {
                        tracing::info!("the replay store (Redis) is reachable again");
                    }
                    match answer {
                        1 => Ok(true),
                        0 => Ok(false),
                        _ => Err(ReplayError::OverQuota),
                    }
                }
                Err(e) => {
                    self.up.store(false, Ordering::Relaxed);
                    if let Some(held_back) = self.warned.allow() {
                        tracing::error!(error = %e, similar_since_last = held_back, "the replay store (Redis) is unreachable; requests with assertions or DPoP proofs are refused");
                    }
                    Err(ReplayError::Unavailable)
                }
            }
        })
    }
}

impl ReplayStore for RedisReplay {
    fn first_use(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_> {
        self.record(key, holder, until, now, None)
    }

    fn advance(
        &self,
        key: [u8; 32],
        holder: &str,
        from: u64,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> ReplayFuture<'_> {
        self.record(
            key,
            holder,
            until,
            now,
            Some((from, from.saturating_add(1))),
        )
    }

    fn used(&self, key: [u8; 32], _now: OffsetDateTime) -> ReplayFuture<'_> {
        Box::pin(async move {
            let id = hex::encode(&key[..16]);
            let mut connection = self.connection.clone();
            // Redis forgets an entry when it expires: EXISTS is the read.
            let found: redis::RedisResult<i64> = redis::cmd("EXISTS")
                .arg(format!("tollgate:used:{id}"))
                .query_async(&mut connection)
                .await;
            match found {
                Ok(n) => {
                    self.up.store(true, Ordering::Relaxed);
                    Ok(n == 1)
                }
                Err(e) => {
                    self.up.store(false, Ordering::Relaxed);
                    if let Some(held_back) = self.warned.allow() {
                        tracing::error!(error = %e, similar_since_last = held_back, "the replay store (Redis) is unreachable; requests that need it are refused");
                    }
                    Err(ReplayError::Unavailable)
                }
            }
        })
    }
}
