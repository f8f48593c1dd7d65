//! `GET /healthz`: liveness/readiness and what configuration is in force.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::format_description::well_known::Rfc3339;

use super::{ApiTags, AppState};

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
    /// `kid` of the key that signs new tokens.
    active_kid: String,
}

pub struct HealthApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl HealthApi {
    /// Health
    #[oai(path = "/healthz", method = "get", tag = "ApiTags::Operations")]
    async fn healthz(&self) -> Json<Health> {
        let status = self.state.status();
        Json(Health {
            status: "ok".into(),
            config: ConfigHealth {
                generation: status.generation,
                sha256: status.sha256,
                loaded_at: status.loaded_at.format(&Rfc3339).unwrap_or_default(),
                last_error: status.last_error,
                restart_required: status.restart_required,
            },
            keys: KeysHealth {
                active_kid: self.state.keys.active().kid().to_owned(),
            },
            auth: {
                let stats = self.state.secret_cache.stats();
                AuthHealth {
                    cache_hits: stats.hits,
                    argon2_runs: stats.argon2_runs,
                    cache_entries: stats.entries as u64,
                }
            },
        })
    }
}
