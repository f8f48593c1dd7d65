//! `GET /healthz`: liveness/readiness and what configuration is in force.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::format_description::well_known::Rfc3339;

use super::{ApiTags, AppState};
use crate::config::KeyMode;

/// Server health.
#[derive(Object)]
pub struct Health {
    /// `ok` while the server serves a valid configuration.
    status: String,
    config: ConfigHealth,
    keys: KeysHealth,
    auth: AuthHealth,
}

/// Client authentication counters since start.
#[derive(Object)]
pub struct AuthHealth {
    /// Authentications answered by the verified-secret cache (one HMAC).
    cache_hits: u64,
    /// Argon2 verifications run: cache misses, wrong secrets, unknown clients.
    argon2_runs: u64,
    /// Verified (client, secret) pairs remembered now.
    cache_entries: u64,
}

/// The configuration in force.
#[derive(Object)]
pub struct ConfigHealth {
    /// Increments with every applied configuration.
    generation: u64,
    /// SHA-256 of the file that is in force.
    sha256: String,
    /// When it was loaded (RFC 3339).
    loaded_at: String,
    /// The last rejected file's problem, if the latest edit was refused
    /// (absent otherwise).
    #[oai(skip_serializing_if_is_none)]
    last_error: Option<String>,
    /// Settings changed in the file that take effect only after a restart.
    restart_required: Vec<String>,
}

/// Signing keys.
#[derive(Object)]
pub struct KeysHealth {
    /// `automatic` or `declared`.
    mode: String,
    /// `kid` of the key that signs new tokens; absent when none does (then
    /// the status is `unavailable`).
    #[oai(skip_serializing_if_is_none)]
    active_kid: Option<String>,
    /// Its algorithm.
    #[oai(skip_serializing_if_is_none)]
    active_alg: Option<String>,
    /// When it stops signing (RFC 3339): the next key's activation or its
    /// retirement; absent when nothing is scheduled.
    #[oai(skip_serializing_if_is_none)]
    rotates_at: Option<String>,
    /// `kid`s in the JWKS now, newest first.
    published: Vec<String>,
}

pub struct HealthApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl HealthApi {
    /// Health
    ///
    /// 200 while the server can issue tokens; 503 when no signing key is
    /// active (take the replica out of rotation).
    #[oai(path = "/healthz", method = "get", tag = "ApiTags::Operations")]
    async fn healthz(&self) -> HealthResponse {
        let status = self.state.status();
        let ring = self.state.keys();
        let now = (self.state.clock)();
        let active = ring.active(now);
        let health = Health {
            status: if active.is_some() {
                "ok"
            } else {
                "unavailable"
            }
            .into(),
            config: ConfigHealth {
                generation: status.generation,
                sha256: status.sha256,
                loaded_at: status.loaded_at.format(&Rfc3339).unwrap_or_default(),
                last_error: status.last_error,
                restart_required: status.restart_required,
            },
            keys: KeysHealth {
                mode: match self.state.config().keys.mode {
                    KeyMode::Automatic { .. } => "automatic",
                    KeyMode::Declared(_) => "declared",
                }
                .into(),
                active_kid: active.map(|k| k.kid().to_owned()),
                active_alg: active.map(|k| k.algorithm().to_string()),
                rotates_at: ring.active_until(now).and_then(|t| t.format(&Rfc3339).ok()),
                published: ring
                    .published(now)
                    .map(|e| e.key.kid().to_owned())
                    .collect(),
            },
            auth: {
                let stats = self.state.secret_cache.stats();
                AuthHealth {
                    cache_hits: stats.hits,
                    argon2_runs: stats.argon2_runs,
                    cache_entries: stats.entries as u64,
                }
            },
        };
        match active {
            Some(_) => HealthResponse::Ok(Json(health)),
            None => HealthResponse::Unavailable(Json(health)),
        }
    }
}

#[derive(ApiResponse)]
pub enum HealthResponse {
    /// Serving.
    #[oai(status = 200)]
    Ok(Json<Health>),
    /// No signing key is active: token requests fail.
    #[oai(status = 503)]
    Unavailable(Json<Health>),
}
