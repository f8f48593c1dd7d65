//! HTTPS: the certificate and key of `[server.tls]`, re-read when they
//! change (cert-manager renews them in place), so a renewed certificate is
//! served without a restart. A pair that does not parse is logged and the
//! one in force stays. Beside it, the client CAs and trust domain bundles
//! are re-read the same way ([`trust_anchors`]).

use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;
use futures_util::Stream;
use rustls::ServerConfig;

/// How often the files are compared with the pair in force.
const POLL: Duration = Duration::from_secs(2);

/// The TLS configurations to serve: the current pair at once, then a new
/// one each time the files (or their paths in the config file) change, or
/// client certificates start or stop being asked for.
pub(crate) fn configs(
    state: Arc<AppState>,
) -> impl Stream<Item = Arc<ServerConfig>> + Send + Unpin + 'static {
    Box::pin(futures_util::stream::unfold(
        (state, None::<Vec<u8>>),
        |(state, in_force)| async move {
            loop {
                if in_force.is_some() {
                    tokio::time::sleep(POLL).await;
                }
                let config = state.config();
                let offer = config.certificates.offered();
                let Some(files) = config.tls.clone() else {
                    // Turned off in the file: takes effect at restart.
                    tokio::time::sleep(POLL).await;
                    continue;
                };
                let read = tokio::task::spawn_blocking(move || files.read()).await;
                let pem = match read {
                    Ok(Ok(pem)) => pem,
                    Ok(Err((_, message))) => {
                        tracing::error!(error = %message, "TLS files not usable; the certificate in force stays");
                        if in_force.is_none() {
                            tokio::time::sleep(POLL).await;
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading the TLS files failed");
                        continue;
                    }
                };
                let digest = tollgate_jose::digest::sha256_parts([
                    &pem.cert[..],
                    &pem.key[..],
                    &[u8::from(offer)],
                ])
                .to_vec();
                if in_force.as_ref() == Some(&digest) {
                    continue;
                }
                if in_force.is_some() {
                    tracing::info!("TLS certificate files changed; serving the new pair");
                }
                let config = match super::tls_accept::server_config(&pem.cert, &pem.key, offer) {
                    Ok(config) => Arc::new(config),
                    Err(e) => {
                        tracing::error!(error = %e, "TLS files not usable; the certificate in force stays");
                        tokio::time::sleep(POLL).await;
                        continue;
                    }
                };
                return Some((config, (state, Some(digest))));
            }
        },
    ))
}

/// Keeps the client CAs and trust domain bundles in force current: the
/// files are compared with the anchors in force every poll, and a set that
/// parses replaces them (one that does not is logged; the old stays).
pub(crate) async fn trust_anchors(state: Arc<AppState>) {
    loop {
        tokio::time::sleep(POLL).await;
        let settings = state.config().certificates.clone();
        if !settings.offered() {
            continue;
        }
        let read = tokio::task::spawn_blocking(move || settings.read()).await;
        match read {
            Ok(Ok(anchors)) => {
                if state.set_trust_anchors(Arc::new(anchors)) {
                    tracing::info!(
                        "client CA or trust domain bundle changed; the new one is in force"
                    );
                }
            }
            Ok(Err((at, message))) => {
                static WARNED: crate::observe::log_limit::LogLimit =
                    crate::observe::log_limit::LogLimit::new(Duration::from_secs(60));
                if WARNED.allow().is_some() {
                    tracing::error!(setting = %at, error = %message, "client certificate CAs not usable; the ones in force stay");
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the client certificate CAs failed"),
        }
    }
}
