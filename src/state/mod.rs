//! What every request reads: the current configuration (swapped whole on
//! reload, loaded once per request), the signing keys, the protocol
//! core's services, the clock; and how the configuration in force came
//! to be, for `/healthz` and `/metrics`.

mod ports;
mod replay;

pub(crate) use replay::Replay;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use time::OffsetDateTime;

use crate::config::Config;
use crate::keys::KeyRing;
use crate::keys::sealing::SealingSource;
use tollgate_core::Services;
use tollgate_core::sealed::SealingKey;
use tollgate_jose::clock::SharedClock;

/// How the configuration in force was loaded, for `/healthz`.
#[derive(Debug, Clone)]
pub(crate) struct ConfigStatus {
    pub generation: u64,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub loaded_at: OffsetDateTime,
    /// Why the latest edit was refused, while it is the latest.
    pub last_error: Option<String>,
    /// Settings changed in the file that apply only after a restart.
    pub restart_required: Vec<String>,
    /// Distinct refused edits since start.
    pub reload_failures: u64,
}

pub(crate) struct AppState {
    config: ArcSwap<Config>,
    status: Mutex<ConfigStatus>,
    /// The signing keys and their schedule: from the file (declared keys)
    /// or the key folder (automatic keys, kept by the rotation task).
    keys: ArcSwap<KeyRing>,
    /// Why automatic key maintenance last failed, while it keeps failing.
    key_fault: Mutex<Option<String>>,
    /// Wakes the rotation task when the configuration changed.
    pub keys_changed: tokio::sync::Notify,
    /// Wakes the remote key prefetch when the configuration changed.
    pub config_applied: tokio::sync::Notify,
    /// `http://` + the bound address: the issuer when the file sets none.
    pub default_issuer: String,
    pub clock: SharedClock,
    /// The protocol core's state: the verified-secret cache, the throttle.
    pub services: Arc<Services>,
    /// Argon2 runs at once at most: one per core. A flood of requests
    /// with wrong secrets then waits in a queue of cheap futures instead of
    /// piling up blocking threads, and cannot slow down the cached path.
    pub argon2_permits: Arc<tokio::sync::Semaphore>,
    /// Where Argon2 runs: one lower-priority thread per permit.
    pub argon2_pool: crate::runtime::slow_pool::SlowPool,
    /// The time every failed authentication takes at least.
    pub failure_floor: crate::runtime::failure_time::FailureFloor,
    /// Keys of clients and trusted issuers that live at a URL.
    pub remote_keys: tollgate_resource::jwks::JwksCache,
    /// Each upstream provider's last outcome (`/healthz`).
    pub(crate) provider_status: crate::upstream::status::ProviderStatus,
    /// Used assertion and proof identifiers.
    pub replay: Replay,
    /// The metadata documents of clients named by a URL.
    pub(crate) documents: crate::cimd::Documents,
    pub metrics: crate::observe::metrics::Metrics,
    /// The settings only a restart applies, as this process started with
    /// them: an edit is judged against these, so reverting one clears the
    /// warning and an unrelated edit keeps it.
    started: StartSettings,
    /// How long a form body may take to arrive.
    pub(crate) body_timeout: std::time::Duration,
    /// The client CAs and trust domain bundles in force: the file's, as
    /// validated, then as re-read when they change.
    pub(crate) trust: ArcSwap<crate::config::certificates::AnchorFiles>,
    /// Automatic keys: the key folder's sealing key, read (or made) at
    /// start. Set once.
    pub(crate) folder_sealing: std::sync::OnceLock<Arc<SealingKey>>,
}

#[derive(PartialEq)]
struct StartSettings {
    listen: std::net::SocketAddr,
    management_listen: Option<std::net::SocketAddr>,
    tls: bool,
    throttle: tollgate_core::ThrottleSettings,
    replay: crate::config::ReplaySetting,
    replay_max_per_client: usize,
    replay_capacity: usize,
}

impl StartSettings {
    fn of(c: &Config) -> Self {
        Self {
            listen: c.listen,
            management_listen: c.management_listen,
            tls: c.tls.is_some(),
            throttle: c.throttle,
            replay: c.replay.clone(),
            replay_max_per_client: c.replay_max_per_client,
            replay_capacity: c.replay_capacity,
        }
    }
}

impl AppState {
    /// The key that seals codes, refresh tokens and sessions under
    /// `config`: its `sealing_key_file`, else the key folder's.
    pub(crate) fn sealing_key(&self, config: &Config) -> Option<Arc<SealingKey>> {
        match &config.keys.sealing {
            SealingSource::File { key, .. } => Some(key.clone()),
            SealingSource::Folder(_) => self.folder_sealing.get().cloned(),
            SealingSource::Missing => None,
        }
    }

    pub(crate) fn new(
        config: Config,
        sha256: String,
        keys: Arc<KeyRing>,
        default_issuer: String,
        clock: SharedClock,
        body_timeout: std::time::Duration,
    ) -> Self {
        let services = Arc::new(Services::new(config.throttle, &clock));
        let services_clock = clock.clone();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let replay = Replay::of(
            &config.replay,
            config.replay_capacity,
            config.replay_max_per_client,
        );
        let started = StartSettings::of(&config);
        let documents = crate::cimd::Documents::new(clock.clone());
        let trust = ArcSwap::new(config.certificates.anchors.clone());
        let status = Mutex::new(ConfigStatus {
            generation: 1,
            sha256,
            loaded_at: clock.now(),
            last_error: None,
            restart_required: Vec::new(),
            reload_failures: 0,
        });
        Self {
            config: ArcSwap::from_pointee(config),
            status,
            keys: ArcSwap::new(keys),
            key_fault: Mutex::new(None),
            keys_changed: tokio::sync::Notify::new(),
            config_applied: tokio::sync::Notify::new(),
            default_issuer,
            clock,
            services,
            argon2_permits: Arc::new(tokio::sync::Semaphore::new(cores)),
            argon2_pool: crate::runtime::slow_pool::SlowPool::new(cores),
            failure_floor: Default::default(),
            folder_sealing: std::sync::OnceLock::new(),
            remote_keys: tollgate_resource::jwks::JwksCache::new(
                services_clock,
                tollgate_resource::jwks::Transport::HttpsOrLoopback,
            ),
            provider_status: Default::default(),
            replay,
            documents,
            metrics: crate::observe::metrics::Metrics::default(),
            started,
            body_timeout,
            trust,
        }
    }

    /// The configuration in force. Load it once per request and pass it
    /// down, so a request never sees half of a reload.
    pub(crate) fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    pub(crate) fn status(&self) -> ConfigStatus {
        lock(&self.status).clone()
    }

    /// The signing keys in force.
    pub(crate) fn keys(&self) -> Arc<KeyRing> {
        self.keys.load_full()
    }

    /// Puts a key ring read from the key folder in force, and clears a
    /// fault of the folder.
    pub(crate) fn set_keys(&self, ring: KeyRing) {
        self.keys.store(Arc::new(ring));
        *lock(&self.key_fault) = None;
    }

    /// Records that key maintenance failed; the keys in force stay.
    pub(crate) fn key_fault(&self, why: String) {
        *lock(&self.key_fault) = Some(why);
    }

    /// Why key maintenance is failing, if it is.
    pub(crate) fn key_fault_now(&self) -> Option<String> {
        lock(&self.key_fault).clone()
    }

    /// Why published keys in hardware cannot sign now, each with its
    /// `kid`; the active key's first.
    pub(crate) fn hardware_faults(&self, now: time::OffsetDateTime) -> Vec<(bool, String)> {
        let keys = self.keys();
        let active = keys.active(now).map(|k| k.kid().to_owned());
        let mut faults: Vec<(bool, String)> = keys
            .published(now)
            .filter_map(|e| {
                let why = e.key.hardware()?.fault()?;
                let is_active = active.as_deref() == Some(e.key.kid());
                Some((is_active, format!("{}: {why}", e.key.kid())))
            })
            .collect();
        faults.sort_by_key(|(is_active, _)| !is_active);
        faults
    }

    /// Puts CAs read from their files in force; whether they differ from
    /// the ones in force (read by `Ports::trust_anchors`).
    pub(crate) fn set_trust_anchors(
        &self,
        anchors: Arc<crate::config::certificates::AnchorFiles>,
    ) -> bool {
        if self.trust.load().digest == anchors.digest {
            return false;
        }
        self.trust.store(anchors);
        true
    }

    /// The issuer of `config`: the configured one, else the default.
    pub(crate) fn issuer(&self, config: &Config) -> String {
        config
            .issuer
            .clone()
            .unwrap_or_else(|| self.default_issuer.clone())
    }

    /// The numbers `/metrics` reads at scrape time.
    pub(crate) fn metrics_snapshot(&self) -> crate::observe::metrics::Snapshot {
        let status = self.status();
        let cache = self.services.secrets.stats();
        let keys = self.keys();
        let now = self.clock.now();
        crate::observe::metrics::Snapshot {
            config_generation: status.generation,
            config_last_reload_ok: status.last_error.is_none(),
            config_reload_failures: status.reload_failures,
            argon2_verifications: cache.argon2_runs,
            secret_cache_hits: cache.hits,
            secret_cache_entries: cache.entries as u64,
            certificate_chain_verifications: self.services.chains.verifications(),
            signing_keys_published: keys.published(now).count() as u64,
            signing_key_rotation_seconds: keys
                .active_until(now)
                .map(|t| (t - now).as_seconds_f64().max(0.0)),
            signing_key_fault: self.key_fault_now().is_some(),
            signing_keys_unavailable: self.hardware_faults(now).len() as u64,
            replay_store_up: self.replay.health().1,
            replay_store_fill: self.replay.fill(),
        }
    }
}

/// Drops the configuration a reload replaced, here on the reload's thread
/// once the requests still reading it are done: dropping 100,000 clients
/// on a runtime thread would hold up every request queued behind it.
fn release(old: Arc<Config>) {
    let waited = std::time::Instant::now();
    while Arc::strong_count(&old) > 1 && waited.elapsed() < std::time::Duration::from_secs(2) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    drop(old);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reloads land here.
impl crate::config::reload::Sink for AppState {
    fn apply(&self, config: Config, sha256: String) {
        let current = self.config();
        let started = &self.started;
        let mut restart = Vec::new();
        if config.listen != started.listen {
            restart.push(format!(
                "server.listen (now {}, serving on {})",
                config.listen, started.listen
            ));
        }
        if config.management_listen != started.management_listen {
            restart.push("server.management_listen".to_owned());
        }
        if config.tls.is_some() != started.tls {
            restart.push("server.tls (turning TLS on or off)".to_owned());
        }
        if config.throttle != started.throttle {
            restart.push("throttle".to_owned());
        }
        if config.replay != started.replay {
            restart.push("replay.store".to_owned());
        }
        if config.replay_max_per_client != started.replay_max_per_client {
            restart.push("replay.max_per_client".to_owned());
        }
        if config.replay_capacity != started.replay_capacity {
            restart.push("replay.capacity".to_owned());
        }
        let before = lock(&self.status).restart_required.clone();
        for r in restart.iter().filter(|r| !before.contains(r)) {
            tracing::warn!(setting = %r, "changed in the config file; takes effect after a restart");
        }
        if let crate::config::KeyMode::Declared { ring, .. } = &config.keys.mode {
            self.keys.store(ring.clone());
        }
        // Reloads run on the blocking pool: measuring new Argon2
        // parameters here keeps it off the request path.
        self.failure_floor.calibrate(&config.registry);
        self.metrics.forget_clients(
            current
                .registry
                .clients()
                .map(|c| c.id.as_str())
                .filter(|id| config.registry.client(id).is_none()),
        );
        self.set_trust_anchors(config.certificates.anchors.clone());
        self.config.store(Arc::new(config));
        release(current);
        self.keys_changed.notify_one();
        self.config_applied.notify_one();
        let mut status = lock(&self.status);
        status.generation += 1;
        status.sha256 = sha256;
        status.loaded_at = self.clock.now();
        status.last_error = None;
        status.restart_required = restart;
        tracing::info!(generation = status.generation, "configuration reloaded");
    }

    /// The same refusal seen again (the poll re-reads a file that stays
    /// broken) counts once.
    fn reject(&self, error: String) {
        let mut status = lock(&self.status);
        if status.last_error.as_deref() != Some(error.as_str()) {
            status.reload_failures += 1;
        }
        status.last_error = Some(error);
    }

    fn restored(&self) {
        lock(&self.status).last_error = None;
    }
}
