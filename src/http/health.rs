//! Health: `/livez` (the process serves: for a liveness probe), `/readyz`
//! (a key signs: for a readiness probe, so a schedule mistake takes pods
//! out of the Service instead of restarting them all), and `/healthz` with
//! what configuration and keys are in force. On the public port the reason
//! a reload was refused has its quoted values masked: they can name client
//! ids. The management listener shows all.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::format_description::well_known::Rfc3339;

use super::{ApiTags, AppState};
use crate::config::KeyMode;

/// How much `/healthz` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Detail {
    Public,
    Full,
}

/// Server health.
#[derive(Object)]
pub struct Health {
    /// `ok` while the server can issue tokens; `degraded` while it can but
    /// key maintenance fails (or a published key in hardware is away);
    /// `unavailable` when no key signs, or the active key is in a token
    /// that cannot sign now.
    status: String,
    config: ConfigHealth,
    keys: KeysHealth,
    auth: AuthHealth,
    replay: ReplayHealth,
    /// The upstream providers people sign in through (`[[login.providers]]`),
    /// as the last sign-in through each found it. A provider down makes no
    /// other part degrade.
    providers: Vec<ProviderHealth>,
}

/// An upstream provider.
#[derive(Object)]
pub(super) struct ProviderHealth {
    name: String,
    /// Whether the last sign-in through it reached it (true before any).
    reachable: bool,
    /// Why not: what failed (`discovery`, `token_endpoint`,
    /// `client_secret`, `invalid_answer`), then, on the management
    /// listener only, the provider's answer or the network's error in
    /// words (they can name internal hosts).
    #[oai(skip_serializing_if_is_none)]
    error: Option<String>,
}

/// The single-use store of assertions and DPoP proofs.
#[derive(Object)]
pub(super) struct ReplayHealth {
    /// `memory` or `redis`.
    store: String,
    /// Whether it answered its last command (memory: whether it has room).
    reachable: bool,
    /// Unexpired ids held now (memory store).
    #[oai(skip_serializing_if_is_none)]
    entries: Option<u64>,
    /// The most ids it holds (memory store).
    #[oai(skip_serializing_if_is_none)]
    capacity: Option<u64>,
    /// What threatens single use: nearly full, or a Redis that may evict
    /// used ids (`maxmemory-policy` other than `noeviction`).
    #[oai(skip_serializing_if_is_none)]
    warning: Option<String>,
}

/// Client authentication counters since start.
#[derive(Object)]
pub(super) struct AuthHealth {
    /// Authentications answered by the verified-secret cache (one HMAC).
    cache_hits: u64,
    /// Argon2 runs: cache misses, wrong secrets, unknown clients.
    argon2_runs: u64,
    /// Verified (client, secret) pairs remembered now.
    cache_entries: u64,
}

/// The configuration in force.
#[derive(Object)]
pub(super) struct ConfigHealth {
    /// Increments with every applied configuration.
    generation: u64,
    /// SHA-256 of the file that is in force.
    sha256: String,
    /// When it was loaded (RFC 3339).
    loaded_at: String,
    /// Why the latest edit was refused, if it was (absent otherwise). On
    /// the public port with quoted values masked (they can name clients).
    #[oai(skip_serializing_if_is_none)]
    last_error: Option<String>,
    /// Settings changed in the file that take effect only after a restart.
    restart_required: Vec<String>,
}

/// Signing keys.
#[derive(Object)]
pub(super) struct KeysHealth {
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
    /// Why automatic key maintenance fails, while it does (the keys in
    /// memory keep serving and nothing is created or deleted).
    #[oai(skip_serializing_if_is_none)]
    fault: Option<String>,
    /// Published keys in a hardware token (PKCS#11) that cannot sign now,
    /// each as `kid: why` (token away, session lost, PIN refused), the
    /// active key's first. Empty while every token answers.
    unavailable: Vec<String>,
}

/// A probe's answer.
#[derive(Object)]
pub struct Probe {
    /// `ok`, or why not.
    status: String,
}

pub(super) struct HealthApi {
    pub state: Arc<AppState>,
    pub detail: Detail,
}

#[OpenApi]
impl HealthApi {
    /// Health
    ///
    /// 200 while the server can issue tokens; 503 when no signing key is
    /// active or the active one is in a token that cannot sign now.
    #[oai(
        path = "/healthz",
        method = "get",
        tag = "ApiTags::Operations",
        operation_id = "health"
    )]
    async fn healthz(&self) -> HealthResponse {
        let health = self.health();
        match health.status.as_str() {
            "unavailable" => HealthResponse::Unavailable(Json(health)),
            _ => HealthResponse::Ok(Json(health)),
        }
    }

    /// Liveness
    ///
    /// 200 while the process serves requests.
    #[oai(
        path = "/livez",
        method = "get",
        tag = "ApiTags::Operations",
        operation_id = "live"
    )]
    async fn livez(&self) -> Json<Probe> {
        Json(Probe {
            status: "ok".into(),
        })
    }

    /// Readiness
    ///
    /// 200 while a signing key is active, 503 when none is, or when it is
    /// in a token that cannot sign now (take the replica out of the
    /// Service; restarting it would not help).
    #[oai(
        path = "/readyz",
        method = "get",
        tag = "ApiTags::Operations",
        operation_id = "ready"
    )]
    async fn readyz(&self) -> ProbeResponse {
        let now = self.state.clock.now();
        let active_fault = self
            .state
            .hardware_faults(now)
            .into_iter()
            .find_map(|(active, why)| active.then_some(why));
        match (self.state.keys().active(now), active_fault) {
            (Some(_), None) => ProbeResponse::Ok(Json(Probe {
                status: "ok".into(),
            })),
            (None, _) => ProbeResponse::Unavailable(Json(Probe {
                status: "no signing key is active".into(),
            })),
            (Some(_), Some(why)) => ProbeResponse::Unavailable(Json(Probe { status: why })),
        }
    }
}

impl HealthApi {
    fn health(&self) -> Health {
        let status = self.state.status();
        let ring = self.state.keys();
        let now = self.state.clock.now();
        let active = ring.active(now);
        let fault = self.state.key_fault_now();
        let stats = self.state.services.secrets.stats();
        let last_error = match self.detail {
            Detail::Full => status.last_error,
            Detail::Public => status.last_error.as_deref().map(masked),
        };
        let unavailable = self.state.hardware_faults(now);
        let active_down = unavailable.first().is_some_and(|(active, _)| *active);
        Health {
            status: match (active, &fault, self.state.replay.health().1) {
                (None, _, _) => "unavailable",
                (Some(_), _, _) if active_down => "unavailable",
                (Some(_), Some(_), _) | (Some(_), None, false) => "degraded",
                (Some(_), None, true) if !unavailable.is_empty() => "degraded",
                (Some(_), None, true) => "ok",
            }
            .into(),
            config: ConfigHealth {
                generation: status.generation,
                sha256: status.sha256,
                loaded_at: status.loaded_at.format(&Rfc3339).unwrap_or_default(),
                last_error,
                restart_required: status.restart_required,
            },
            keys: KeysHealth {
                mode: match self.state.config().keys.mode {
                    KeyMode::Automatic { .. } => "automatic",
                    KeyMode::Declared { .. } => "declared",
                }
                .into(),
                active_kid: active.map(|k| k.kid().to_owned()),
                active_alg: active.map(|k| k.algorithm().to_string()),
                rotates_at: ring.active_until(now).and_then(|t| t.format(&Rfc3339).ok()),
                published: ring
                    .published(now)
                    .map(|e| e.key.kid().to_owned())
                    .collect(),
                fault,
                unavailable: unavailable.into_iter().map(|(_, why)| why).collect(),
            },
            replay: {
                let (store, reachable) = self.state.replay.health();
                let fill = self.state.replay.fill();
                ReplayHealth {
                    store: store.into(),
                    reachable,
                    entries: fill.map(|(held, _)| held as u64),
                    capacity: fill.map(|(_, capacity)| capacity as u64),
                    warning: self.state.replay.warning(),
                }
            },
            providers: self
                .state
                .config()
                .registry
                .login()
                .map(|l| {
                    l.providers
                        .iter()
                        .map(|p| {
                            let why = self.state.provider_status.of(p.name.as_str());
                            ProviderHealth {
                                name: p.name.to_string(),
                                reachable: why.is_none(),
                                error: why.map(|why| match self.detail {
                                    Detail::Full => why.to_string(),
                                    Detail::Public => why.kind.to_owned(),
                                }),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            auth: AuthHealth {
                cache_hits: stats.hits,
                argon2_runs: stats.argon2_runs,
                cache_entries: stats.entries as u64,
            },
        }
    }
}

/// A refusal as the public port shows it: every quoted value masked
/// (`client_id "…" is used by an earlier client`), since values of the
/// file can name clients; where and what is wrong stays.
fn masked(error: &str) -> String {
    let mut out = String::with_capacity(error.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in error.chars() {
        match (quoted, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, true, _) => escaped = false,
            (_, _, '"') => {
                if quoted {
                    out.push_str("…\"");
                } else {
                    out.push('"');
                }
                quoted = !quoted;
            }
            (true, _, _) => {}
            (false, _, c) => out.push(c),
        }
    }
    out
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

#[derive(ApiResponse)]
pub enum ProbeResponse {
    /// Ready.
    #[oai(status = 200)]
    Ok(Json<Probe>),
    /// Not ready.
    #[oai(status = 503)]
    Unavailable(Json<Probe>),
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_health_shows_where_and_what_is_wrong_but_no_quoted_value() {
        let error = "identity.toml:31:1: clients[3].client_id: client_id \"bil\\\"ling\" is used by an earlier client\n  hint: rename it\nidentity.toml:5:19: clients[0].allowed_scopes[0]: scope nope is not declared";
        let shown = super::masked(error);
        assert!(!shown.contains("bil") && !shown.contains("ling"), "{shown}");
        assert!(
            shown.contains("identity.toml:31:1: clients[3].client_id: client_id \"…\" is used"),
            "{shown}"
        );
        assert!(
            shown.contains("identity.toml:5:19: clients[0].allowed_scopes[0]: scope nope"),
            "{shown}"
        );
    }
}
