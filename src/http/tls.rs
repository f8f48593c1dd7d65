//! HTTPS: the certificate and key of `[server.tls]`, re-read when they
//! change (cert-manager renews them in place), so a renewed certificate is
//! served without a restart. A pair that does not parse is logged and the
//! one in force stays.

use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;
use futures_util::Stream;
use poem::listener::RustlsConfig;

/// How often the files are compared with the pair in force.
const POLL: Duration = Duration::from_secs(2);

/// The TLS configurations to serve: the current pair at once, then a new
/// one each time the files (or their paths in the config file) change.
pub(crate) fn configs(
    state: Arc<AppState>,
) -> impl Stream<Item = RustlsConfig> + Send + Unpin + 'static {
    Box::pin(futures_util::stream::unfold(
        (state, None::<Vec<u8>>),
        |(state, in_force)| async move {
            loop {
                if in_force.is_some() {
                    tokio::time::sleep(POLL).await;
                }
                let Some(files) = state.config().tls.clone() else {
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
                let digest =
                    tollgate_jose::digest::sha256_parts([&pem.cert[..], &pem.key[..]]).to_vec();
                if in_force.as_ref() == Some(&digest) {
                    continue;
                }
                if in_force.is_some() {
                    tracing::info!("TLS certificate files changed; serving the new pair");
                }
                let config = RustlsConfig::new().fallback(
                    poem::listener::RustlsCertificate::new()
                        .cert(pem.cert)
                        .key(pem.key),
                );
                return Some((config, (state, Some(digest))));
            }
        },
    ))
}
