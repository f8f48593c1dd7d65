//! How the protocol core's requests are carried out: slow work on the
//! Argon2 threads (`slow_pool`, below the request threads' priority), at
//! most one run per core; signatures by the key the ring says is active,
//! batched with concurrent requests' tokens (a key in hardware: on the
//! blocking threads, through its session pool); remote keys from their
//! cache; single use from the replay store. Argon2 runs and signature
//! checks are timed as the request's work (`runtime::failure_time`).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::keys::KeyError;
use crate::state::AppState;
use tollgate_core::{PortError, Ports, TokenKind};
use tollgate_jose::jose::JwksLocation;
use tollgate_jose::jose::PublicKeys;
use tollgate_jose::replay::ReplayError;

impl Ports for AppState {
    async fn slow<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PortError> {
        let permit = Arc::clone(&self.argon2_permits)
            .acquire_owned()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "argon2 semaphore closed");
                PortError::Failed
            })?;
        // The permit goes with the work: a request that is dropped while
        // its Argon2 runs does not let another start beside it.
        // Timed on its thread: the work of a failure is what sets the
        // floor of every failure's time, never the wait for a permit.
        let work = move || {
            let _permit = permit;
            let started = std::time::Instant::now();
            let output = work();
            (output, started.elapsed())
        };
        let (output, took) = self.argon2_pool.run(work).await.map_err(|_| {
            tracing::error!("slow work failed");
            PortError::Failed
        })?;
        crate::runtime::failure_time::add_work(took);
        Ok(output)
    }

    fn timed<T>(&self, check: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let output = check();
        crate::runtime::failure_time::add_work(started.elapsed());
        output
    }

    async fn sign(
        &self,
        claims_json: Vec<u8>,
        kind: TokenKind,
        now: OffsetDateTime,
    ) -> Result<String, PortError> {
        let key = {
            let keys = self.keys();
            let Some(key) = keys.active(now) else {
                tracing::error!("no signing key is active; see [keys] in the config file");
                return Err(PortError::NoActiveKey);
            };
            // The ring is not held while the token waits for its signature.
            key.clone()
        };
        let signed = if key.hardware().is_some() {
            // The module blocks (a network HSM for milliseconds): off the
            // request threads, each signature on a pooled session.
            tokio::task::spawn_blocking(move || key.sign_jwt_as(&claims_json, kind))
                .await
                .unwrap_or_else(|e| Err(KeyError::Unusable(e.to_string())))
        } else {
            crate::keys::batch::sign_jwt(key, claims_json, kind).await
        };
        signed.map_err(|e| match e {
            // Logged by the key when it goes down, not per request.
            KeyError::Unavailable { retry, .. } => PortError::KeyUnavailable(retry),
            e => {
                tracing::error!(error = %e, "signing failed");
                PortError::Failed
            }
        })
    }

    async fn keys(
        &self,
        source: &JwksLocation,
        refresh: bool,
    ) -> Result<Arc<PublicKeys>, PortError> {
        self.remote_keys
            .get(source, refresh)
            .await
            .map(|set| set.keys.clone())
            .map_err(|_| PortError::Failed)
    }

    async fn first_use(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayError> {
        self.replay.store().first_use(key, holder, until, now).await
    }

    async fn advance(
        &self,
        key: [u8; 32],
        holder: &str,
        from: u64,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayError> {
        self.replay
            .store()
            .advance(key, holder, from, until, now)
            .await
    }

    async fn used(&self, key: [u8; 32], now: OffsetDateTime) -> Result<bool, ReplayError> {
        self.replay.store().used(key, now).await
    }

    fn trust_anchors(&self) -> Option<Arc<tollgate_core::TrustAnchors>> {
        Some(self.trust.load().trust.clone())
    }
}

/// Our own tokens, checked against the keys published now.
impl tollgate_core::OwnTokens for AppState {
    async fn claims(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        use tollgate_jose::jose;
        let jwt = jose::peek(token)?;
        if jwt.raw_header.get("typ").and_then(|t| t.as_str()) != Some("at+jwt") {
            return None;
        }
        let kid = jwt.header.kid.as_deref()?;
        let ring = self.keys();
        let entry = ring.published(now).find(|e| e.key.kid() == kid)?;
        let key = jose::parse_jwk(&serde_json::to_value(entry.key.jwk()).ok()?).ok()?;
        jose::verifies(token, &jwt, &key).then_some(jwt.claims)
    }
}
