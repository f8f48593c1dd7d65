//! tollgate: an OAuth 2.0 authorization server whose whole state is one
//! declarative file, `identity.toml`.
//!
//! # Layout
//!
//! - [`config`]: `identity.toml` — `raw` (serde mirror, the source of the
//!   JSON schema), `sources` (TOML → JSON, environment overrides), `shape`
//!   (schema checks), `validate` (cross-field rules, warnings), `locate`
//!   (key path → line), `reload` (folder watch, debounce, swap).
//!   *Architecture invariant:* `serve`, reload and `check` share one
//!   validation path, and it never runs Argon2.
//! - [`oauth`]: the protocol core — RFC 6749 errors, scopes, clients,
//!   token request parsing, client authentication (Argon2id, the
//!   verified-secret cache, throttling), the client_credentials grant.
//!   *Architecture invariant:* no poem, no IO, time passed in.
//! - [`token`]: RFC 9068 access token claims and minting.
//! - [`keys`]: signing keys (ES256, EdDSA, RS256) — `kid` (RFC 7638), the
//!   ring that says what is published and what signs at an instant (pure),
//!   automatic rotation in a folder, key files.
//!   *Architecture invariant:* the active key is a function of the
//!   configuration, the key files and the clock; replicas never talk.
//! - [`state`]: what each request reads (config behind an `ArcSwap`, keys).
//! - [`endpoints`]: HTTP — with `serve`, the only modules that import
//!   poem; the OpenAPI document and docs UI are generated from it.
//!   `POST /connect/token` is a plain poem endpoint in front of the OpenAPI
//!   service (the hot path), described in the document by hand from the
//!   same types.
//! - `serve`: the connection loop — poem's endpoints on hyper connections,
//!   the header-read and idle limit, graceful shutdown.
//! - [`audit`]: one event per token request, issued or refused.
//! - [`metrics`]: Prometheus counters and histograms, and the state's
//!   numbers read at scrape time.
//! - [`memory`]: keeps glibc from holding freed memory (Argon2 blocks,
//!   configuration parsing).
//! - [`resource`]: for API authors — validates tollgate's tokens through
//!   discovery and JWKS; the sample API uses it.
//!
//! `src/main.rs` is only the command line; [`Server`] is the program, and
//! the integration tests start it on `127.0.0.1:0`.

pub mod audit;
pub mod config;
pub mod endpoints;
pub mod keys;
pub mod memory;
pub mod metrics;
pub mod oauth;
pub mod resource;
mod serve;
pub mod state;
mod tls;
pub mod token;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::{AcceptorExt, TcpAcceptor};

use crate::state::AppState;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A connection waiting this long for a request's head (idle between
/// requests, or its head trickled in) is closed, so stalled or half-open
/// connections do not pile up.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound, ready server.
pub struct Server {
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    config_path: std::path::PathBuf,
    limits: serve::Limits,
}

impl Server {
    /// Loads and validates `config_path`, loads or generates the signing
    /// key, and binds `listen` (or the file's `server.listen`).
    pub async fn bind(config_path: &Path, listen: Option<&str>) -> anyhow::Result<Server> {
        let text = config::read(config_path)?;
        let report = config::check(
            &text,
            config_path,
            config::Overrides::Environment,
            time::OffsetDateTime::now_utc(),
        );
        for w in &report.warnings {
            tracing::warn!("{}", w.render(config_path, Some("warning")));
        }
        let config = report.config.ok_or_else(|| config::ConfigError::Invalid {
            file: config_path.to_owned(),
            problems: report.errors,
        })?;
        let sha256 = config::reload::sha256_hex(text.as_bytes());
        let keys = match config.keys.declared_ring() {
            Some(ring) => ring.clone(),
            None => {
                let config::KeyMode::Automatic { dir, rotation } = config.keys.mode.clone() else {
                    unreachable!("keys are declared or automatic");
                };
                let now = time::OffsetDateTime::now_utc();
                let (ring, _) =
                    tokio::task::spawn_blocking(move || keys::auto::maintain(&dir, &rotation, now))
                        .await??;
                Arc::new(ring)
            }
        };
        for entry in keys.entries() {
            tracing::info!(kid = entry.key.kid(), alg = %entry.key.algorithm(), activate_at = %keys::rfc3339(entry.activate_at), "signing key loaded");
        }

        let listen = listen.unwrap_or(&config.listen).to_owned();
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let host = if addr.ip().is_unspecified() {
            "localhost".to_owned()
        } else {
            addr.to_string()
        };
        let host = if addr.ip().is_unspecified() {
            format!("{host}:{}", addr.port())
        } else {
            host
        };
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let default_issuer = format!("{scheme}://{host}");
        if config.issuer.is_none() {
            tracing::warn!(issuer = %default_issuer, "no issuer set in the config file; using the listen address");
        }
        // The dummy hash for unknown clients costs one Argon2 run: pay it
        // now, not on the first request (which would be a timing tell).
        tokio::task::spawn_blocking(oauth::client_auth::warm_up).await?;

        let state = Arc::new(AppState::new(config, sha256, keys, default_issuer));
        memory::release_freed();
        Ok(Server {
            state,
            listener,
            addr,
            config_path: config_path.to_owned(),
            limits: serve::Limits {
                head: HEAD_TIMEOUT,
                shutdown_grace: SHUTDOWN_GRACE,
            },
        })
    }

    /// Sets how long a connection may wait for a request's head (30 s by
    /// default): idle between requests, or its head trickled in.
    pub fn head_timeout(mut self, limit: Duration) -> Self {
        self.limits.head = limit;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish (up to a grace period).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let config = self.state.config();
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(
            issuer = %self.state.issuer(&config),
            "listening on {scheme}://{}", self.addr
        );
        let _reloader = config::reload::watch(self.state.clone(), self.config_path.clone())
            .map_err(std::io::Error::other)?;
        let rotation = tokio::spawn(maintain_keys(self.state.clone()));
        let pruner = tokio::spawn({
            let state = self.state.clone();
            async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    state.throttle.prune();
                }
            }
        });
        let tcp = TcpAcceptor::from_tokio(self.listener)?;
        let routes = endpoints::routes(self.state.clone());
        // Not boxed: a boxed acceptor's IO goes through dynamic dispatch and
        // split halves on every read and write (measured ~5 % of tokens/s).
        let limits = self.limits;
        let tls_on = config.tls.is_some();
        // The first configuration must not live as long as the server.
        drop(config);
        let result = match tls_on {
            false => serve::serve(tcp, routes, shutdown, limits).await,
            true => {
                let tls = tcp.rustls(tls::configs(self.state.clone()));
                serve::serve(tls, routes, shutdown, limits).await
            }
        };
        pruner.abort();
        rotation.abort();
        result
    }
}

/// The longest the rotation task sleeps: it also notices a key folder
/// changed by hand, and a clock that jumped.
const KEY_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Automatic keys: creates, rotates and deletes key files on schedule and
/// puts the folder's ring in force. Declared keys need nothing: their ring
/// is a function of the file (applied on reload) and the clock.
async fn maintain_keys(state: Arc<AppState>) {
    loop {
        let config = state.config();
        let now = (state.clock)();
        let mut wake = KEY_CHECK_INTERVAL;
        if let config::KeyMode::Automatic { dir, rotation } = &config.keys.mode {
            let (dir, rotation) = (dir.clone(), *rotation);
            match tokio::task::spawn_blocking(move || keys::auto::maintain(&dir, &rotation, now))
                .await
            {
                Ok(Ok((ring, next))) => {
                    state.set_keys(ring);
                    if let Some(next) = next {
                        // A little past the instant, so the clock has reached it.
                        let until = (next - now).unsigned_abs() + Duration::from_millis(20);
                        wake = wake.min(until);
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "signing keys not maintained; the keys in force stay, retrying")
                }
                Err(e) => tracing::error!(error = %e, "key maintenance task failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wake) => {}
            _ = state.keys_changed.notified() => {}
        }
    }
}
