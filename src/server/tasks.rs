//! The tasks that run beside serving: key sets fetched when a
//! configuration comes into force, SIGHUP as a reload, automatic key
//! maintenance, and the probe of keys in hardware.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{self, KeyMode, KeysConfig};
use crate::keys;
use crate::state::AppState;

use super::KEY_CHECK_INTERVAL;

/// Fetches every key set that lives at a URL (clients' `jwks_uri`, trusted
/// issuers) when a configuration comes into force, so the first request
/// does not wait for it and an unreachable URL is in the log at once (the
/// fetcher logs it; `check` never needs the network).
pub(super) async fn prefetch_keys(state: Arc<AppState>) {
    loop {
        let config = state.config();
        let registry = &config.registry;
        let sources: Vec<tollgate_jose::jose::JwksLocation> = registry
            .clients()
            .map(|c| &c.keys)
            .chain(registry.trusted_issuers().map(|t| &t.keys))
            .filter_map(|k| match k {
                tollgate_core::KeySource::Remote(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        drop(config);
        for source in sources {
            if state.remote_keys.get(&source, false).await.is_ok() {
                tracing::debug!(url = %source.url, "keys fetched");
            }
        }
        state.config_applied.notified().await;
    }
}

/// SIGHUP: terminals, supervisors and people send it expecting a reload,
/// not an abrupt exit.
pub(super) async fn reload_on_hangup(
    hangup: std::io::Result<tokio::signal::unix::Signal>,
    trigger: config::watch::Trigger,
) {
    let Ok(mut hangup) = hangup else {
        tracing::warn!("cannot handle SIGHUP");
        return;
    };
    while hangup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the configuration");
        trigger.reload();
    }
}

/// Automatic keys: creates, rotates and deletes key files on schedule and
/// puts the folder's ring in force. Declared keys need nothing: their ring
/// is a function of the file (applied on reload) and the clock.
pub(super) async fn maintain_keys(state: Arc<AppState>) {
    static FAULT: crate::observe::log_limit::LogLimit =
        crate::observe::log_limit::LogLimit::new(KEY_CHECK_INTERVAL);
    loop {
        // Not held while sleeping: a reload waits for the old
        // configuration's last reader before it drops it.
        let automatic = match &state.config().keys {
            KeysConfig {
                mode: KeyMode::Automatic { dir, rotation },
                ..
            } => Some((dir.clone(), *rotation)),
            _ => None,
        };
        let now = state.clock.now();
        let mut wake = KEY_CHECK_INTERVAL;
        if let Some((dir, rotation)) = automatic {
            let in_force = state.keys();
            let maintained = tokio::task::spawn_blocking(move || {
                keys::auto::maintain(&dir, &rotation, now, Some(&in_force))
            })
            .await;
            match maintained {
                Ok(Ok((ring, next))) => {
                    if state.key_fault_now().is_some() {
                        tracing::info!("the key folder is usable again; key maintenance resumes");
                    }
                    state.set_keys(ring);
                    if let Some(next) = next {
                        // A little past the instant, so the clock has reached it.
                        let until = (next - now).unsigned_abs() + Duration::from_millis(20);
                        wake = wake.min(until);
                    }
                }
                Ok(Err(e)) => {
                    let first = state.key_fault_now().is_none();
                    state.key_fault(e.to_string());
                    if first || FAULT.allow().is_some() {
                        tracing::error!(error = %e, "signing keys not maintained; the keys in force stay");
                    }
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

/// How often keys in hardware are probed: a token that went away shows in
/// `/healthz` without waiting for a token request, and one that came back
/// is reconnected (within this and `keys::pkcs11::RETRY`).
const HARDWARE_PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// Probes the published keys that live in a token (one signature each, or
/// a reconnection while one is down).
pub(super) async fn probe_hardware_keys(state: Arc<AppState>) {
    loop {
        let now = state.clock.now();
        let hardware: Vec<Arc<keys::SigningKey>> = state
            .keys()
            .published(now)
            .filter(|e| e.key.hardware().is_some())
            .map(|e| e.key.clone())
            .collect();
        for key in hardware {
            let probed = tokio::task::spawn_blocking(move || {
                if let Some(hsm) = key.hardware() {
                    hsm.probe();
                }
            })
            .await;
            if let Err(e) = probed {
                tracing::error!(error = %e, "the hardware key probe failed");
            }
        }
        tokio::time::sleep(HARDWARE_PROBE_INTERVAL).await;
    }
}
