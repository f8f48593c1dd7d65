//! The server as a program: load and validate the file, bind, then serve
//! the public and (if configured) the management listener, with the reload
//! watcher, SIGHUP, key maintenance and TLS renewal beside them, until the
//! shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::TcpAcceptor;

use crate::config::reload::{Reload, Sink};
use crate::config::{self, KeyMode};
use crate::http::connections;
use crate::http::{self, PublicMetrics};
use crate::keys;
use crate::keys::sealing::SealingSource;
use crate::state::AppState;
use tollgate_jose::clock::SharedClock;

mod tasks;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A connection waiting this long for a request's head (idle between
/// requests, or its head trickled in) is closed, so stalled or half-open
/// connections do not pile up.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a form body may take to arrive: a body trickled in byte by
/// byte would otherwise hold the request open.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// After the shutdown signal, connections keep being served this long
/// (new ones are refused): a request a client already sent on a kept-alive
/// connection is answered, not dropped with the connection.
const DRAIN: Duration = Duration::from_millis(500);
/// The longest the rotation task sleeps: it also notices a key folder
/// changed by hand, and a clock that jumped.
pub(super) const KEY_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// How to start a server.
pub struct Builder {
    config_path: PathBuf,
    listen: Option<String>,
    clock: SharedClock,
    head_timeout: Duration,
    body_timeout: Duration,
}

impl Builder {
    /// Listen here instead of the file's `server.listen`.
    pub fn listen(mut self, listen: &str) -> Self {
        self.listen = Some(listen.to_owned());
        self
    }

    /// Run on this clock instead of the wall clock (tests pin it).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a connection may wait for a request's head (30 s by
    /// default): idle between requests, its head trickled in, or an
    /// HTTP/2 connection with nothing in flight.
    pub fn head_timeout(mut self, limit: Duration) -> Self {
        self.head_timeout = limit;
        self
    }

    /// How long a token or introspection request's body may take to
    /// arrive (5 s by default).
    pub fn body_timeout(mut self, limit: Duration) -> Self {
        self.body_timeout = limit;
        self
    }

    /// Loads and validates the file, loads or generates the signing keys,
    /// and binds the listeners.
    pub async fn bind(self) -> anyhow::Result<Server> {
        let Builder {
            config_path,
            listen,
            clock,
            head_timeout,
            body_timeout,
        } = self;
        let now = clock.now();
        let text = config::read(&config_path)?;
        let mut report = config::check(&text, &config_path, config::Overrides::Environment, now);
        let reuse = report.reusable();
        for w in &report.warnings {
            tracing::warn!("{}", w.render(&config_path, Some("warning")));
        }
        let config = report.config.ok_or_else(|| config::ConfigError::Invalid {
            file: config_path.clone(),
            problems: report.errors,
        })?;
        let sha256 = config.files_fingerprint(&config_path, text.as_bytes());
        // The file's text (22 MB for 100,000 clients) is not needed any more;
        // freed now, before the memory is handed back below.
        drop(text);
        let ring = match &config.keys.mode {
            KeyMode::Declared { ring, .. } => ring.clone(),
            KeyMode::Automatic { dir, rotation } => {
                let (dir, rotation) = (dir.clone(), *rotation);
                let (ring, _) = tokio::task::spawn_blocking(move || {
                    keys::auto::maintain(&dir, &rotation, now, None)
                })
                .await??;
                Arc::new(ring)
            }
        };
        for entry in ring.entries() {
            tracing::info!(kid = entry.key.kid(), alg = %entry.key.algorithm(), activate_at = %keys::rfc3339(entry.activate_at), "signing key loaded");
        }

        let listener = match &listen {
            Some(listen) => tokio::net::TcpListener::bind(listen).await,
            None => tokio::net::TcpListener::bind(config.listen).await,
        }
        .with_context(|| {
            format!(
                "cannot listen on {}",
                listen.clone().unwrap_or_else(|| config.listen.to_string())
            )
        })?;
        let addr = listener.local_addr()?;
        let management = match config.management_listen {
            Some(at) => {
                let l = tokio::net::TcpListener::bind(at)
                    .await
                    .with_context(|| format!("cannot listen on {at} (server.management_listen)"))?;
                let a = l.local_addr()?;
                Some((l, a))
            }
            None => None,
        };
        let default_issuer = config.default_issuer(addr);
        match &config.issuer {
            None => {
                tracing::warn!(issuer = %default_issuer, "no issuer set in the config file; using the listen address");
            }
            Some(issuer) => {
                if let Some(port) = other_loopback_port(issuer, addr) {
                    tracing::warn!(
                        issuer = %issuer,
                        listen = %addr,
                        "the issuer names port {port} of this machine but the server listens on port {}: discovery advertises endpoints there, which clients may not reach; set `issuer` in the config file (or TOLLGATE_ISSUER) to {default_issuer}, or leave it unset to use the listen address",
                        addr.port()
                    );
                }
            }
        }
        // One Argon2 run now, not on the first request (which would be a
        // timing tell).
        tokio::task::spawn_blocking(tollgate_core::warm_up).await?;
        let in_force = (config.keys.clone(), config.include.clone(), reuse);
        let state = Arc::new(AppState::new(
            config,
            sha256.clone(),
            ring,
            default_issuer,
            clock.clone(),
            body_timeout,
        ));
        if let SealingSource::Folder(dir) = &state.config().keys.sealing {
            let dir = dir.clone();
            let key = tokio::task::spawn_blocking(move || keys::sealing::in_folder(&dir))
                .await?
                .map_err(|e| anyhow::anyhow!("the sealing key: {e}"))?;
            let _ = state.folder_sealing.set(Arc::new(key));
        }
        let measuring = state.clone();
        tokio::task::spawn_blocking(move || {
            measuring
                .failure_floor
                .calibrate(&measuring.config().registry)
        })
        .await?;
        crate::runtime::allocator::release_freed();
        Ok(Server {
            reload: Arc::new(Reload::new(
                config_path,
                sha256,
                in_force,
                clock,
                state.clone() as Arc<dyn Sink>,
            )),
            state,
            listener,
            management,
            addr,
            limits: connections::Limits {
                head: head_timeout,
                shutdown_grace: SHUTDOWN_GRACE,
                drain: DRAIN,
                max_connections: connections::max_connections(),
                max_per_address: connections::MAX_PER_ADDRESS,
            },
        })
    }
}

/// The port an explicit issuer names when it is a loopback URL
/// (`localhost`, `127.0.0.1`, `[::1]`) on another port than the one the
/// server listens on (`serve --listen` to another port, with the
/// quickstart's issuer): its endpoints are then not this server's. `None`
/// for a public host (a proxy or load balancer may well listen elsewhere).
fn other_loopback_port(issuer: &str, listening: SocketAddr) -> Option<u16> {
    let url = url::Url::parse(issuer).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let port = url.port_or_known_default()?;
    (loopback && port != listening.port()).then_some(port)
}

/// A bound, ready server.
pub struct Server {
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    management: Option<(tokio::net::TcpListener, SocketAddr)>,
    addr: SocketAddr,
    reload: Arc<Reload>,
    limits: connections::Limits,
}

impl Server {
    /// How to start a server on `config_path`.
    pub fn builder(config_path: &Path) -> Builder {
        Builder {
            config_path: config_path.to_owned(),
            listen: None,
            clock: tollgate_jose::clock::system(),
            head_timeout: HEAD_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The management listener's address, if `server.management_listen`
    /// is set.
    pub fn management_addr(&self) -> Option<SocketAddr> {
        self.management.as_ref().map(|(_, a)| *a)
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish (up to a grace period).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        // Before anything says the server is up: SIGHUP's default action
        // is to end the process.
        let hangup_signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
        let config = self.state.config();
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        if let Some((_, at)) = &self.management {
            tracing::info!("management listener (metrics, health) on http://{at}");
        }
        tracing::info!(
            issuer = %self.state.issuer(&config),
            "listening on {scheme}://{}", self.addr
        );
        let reloader = config::watch::watch(
            self.reload.clone(),
            crate::runtime::allocator::release_freed,
        )
        .map_err(std::io::Error::other)?;
        let hangup = tokio::spawn(tasks::reload_on_hangup(hangup_signal, reloader.trigger()));
        let rotation = tokio::spawn(tasks::maintain_keys(self.state.clone()));
        let prefetch = tokio::spawn(tasks::prefetch_keys(self.state.clone()));
        let hardware = tokio::spawn(tasks::probe_hardware_keys(self.state.clone()));
        let anchors = tokio::spawn(crate::http::tls::trust_anchors(self.state.clone()));
        let replay_check = tokio::spawn({
            let state = self.state.clone();
            async move { state.replay.probe().await }
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let on_stop = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let management = match self.management {
            Some((listener, _)) => {
                let tcp = TcpAcceptor::from_tokio(listener)?;
                let routes = http::management_routes(self.state.clone());
                let limits = self.limits;
                let done = on_stop();
                Some(tokio::spawn(async move {
                    connections::serve(tcp, routes, done, limits).await
                }))
            }
            None => None,
        };
        let public_metrics = match management {
            Some(_) => PublicMetrics::Off,
            None => PublicMetrics::Redacted,
        };
        let tcp = TcpAcceptor::from_tokio(self.listener)?;
        let routes = http::routes(self.state.clone(), public_metrics);
        let limits = self.limits;
        let tls_on = config.tls.is_some();
        // The first configuration must not live as long as the server.
        drop(config);
        let stopping = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        // Not boxed: a boxed acceptor's IO goes through dynamic dispatch and
        // split halves on every read and write (measured ~5 % of tokens/s).
        let result = match tls_on {
            false => connections::serve(tcp, routes, stopping, limits).await,
            true => {
                let tls = crate::http::tls_accept::TlsAcceptor::new(
                    tcp,
                    crate::http::tls::configs(self.state.clone()),
                );
                connections::serve(tls, routes, stopping, limits).await
            }
        };
        if let Some(management) = management {
            let _ = management.await;
        }
        hangup.abort();
        anchors.abort();
        rotation.abort();
        prefetch.abort();
        hardware.abort();
        replay_check.abort();
        drop(reloader);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::other_loopback_port;

    #[test]
    fn a_loopback_issuer_on_another_port_than_the_listener_is_named() {
        let at = |a: &str| a.parse().unwrap();
        let other = |issuer: &str, addr: &str| other_loopback_port(issuer, at(addr));
        assert_eq!(other("http://localhost:5001", "127.0.0.1:5603"), Some(5001));
        assert_eq!(other("http://127.0.0.1:5001", "0.0.0.0:5603"), Some(5001));
        assert_eq!(other("http://[::1]", "[::1]:5603"), Some(80));
        assert_eq!(other("http://localhost:5603", "127.0.0.1:5603"), None);
        assert_eq!(other("http://LOCALHOST:5603", "0.0.0.0:5603"), None);
        // A public host: a proxy may listen on another port.
        assert_eq!(other("https://auth.example.com", "0.0.0.0:5001"), None);
        assert_eq!(other("http://10.0.0.5:8080", "0.0.0.0:5001"), None);
    }
}
