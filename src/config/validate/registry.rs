//! The rules of `[[api_scopes]]`, `[[api_resources]]` and `[[clients]]`:
//! each list validated, then indexed into the protocol core's
//! [`Registry`].

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;

use super::super::problems::{Problems, parse_datetime};
use super::super::raw::{RawClient, RawConfig, RawSecret};
use super::super::{Config, duration};
use crate::oauth::{
    ApiResource, ApiScope, Client, ClientId, ClientSecret, GrantType, Registry, ScopeSet,
    ScopeToken, SecretHash, Secrets,
};

/// Claims tollgate sets itself; a client's extra claims may not replace them.
pub const REGISTERED_CLAIMS: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "cnf",
];

const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

pub(super) fn build(raw: &RawConfig, problems: &mut Problems<'_>) -> Registry {
    let scopes = scopes(raw, problems);
    let declared: ScopeSet = scopes.iter().map(|s| s.name.clone()).collect();
    let resources = resources(raw, &declared, problems);
    let mut clients: Vec<Client> = Vec::with_capacity(raw.clients.len());
    let mut ids = HashSet::with_capacity(raw.clients.len());
    for (i, c) in raw.clients.iter().enumerate() {
        if !ids.insert(c.client_id.as_str()) {
            problems.add(
                format!("clients[{i}].client_id"),
                format!("client_id {:?} is used by an earlier client", c.client_id),
            );
            continue;
        }
        if let Some(client) = client(c, i, &declared, problems) {
            clients.push(client);
        }
    }
    Registry::new(scopes, resources, clients)
}

fn scopes(raw: &RawConfig, problems: &mut Problems<'_>) -> Vec<ApiScope> {
    let mut scopes: Vec<ApiScope> = Vec::with_capacity(raw.api_scopes.len());
    for (i, s) in raw.api_scopes.iter().enumerate() {
        let path = format!("api_scopes[{i}].name");
        match s.name.parse::<ScopeToken>() {
            Ok(name) if scopes.iter().any(|s| s.name == name) => {
                problems.add(path, format!("scope {name} is declared twice"))
            }
            Ok(name) => scopes.push(ApiScope {
                name,
                display_name: s.display_name.clone(),
            }),
            Err(e) => problems.add(path, e.to_string()),
        }
    }
    scopes
}

fn resources(
    raw: &RawConfig,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> Vec<ApiResource> {
    let mut resources = Vec::with_capacity(raw.api_resources.len());
    let mut names = HashSet::new();
    for (i, r) in raw.api_resources.iter().enumerate() {
        if r.name.trim().is_empty() {
            problems.add(
                format!("api_resources[{i}].name"),
                "a resource name may not be empty",
            );
        } else if !names.insert(r.name.as_str()) {
            problems.add(
                format!("api_resources[{i}].name"),
                format!("resource {} is declared twice", r.name),
            );
        }
        let scopes = known_scopes(
            &r.scopes,
            &format!("api_resources[{i}].scopes"),
            declared,
            problems,
        );
        resources.push(ApiResource {
            name: r.name.clone(),
            scopes: scopes.iter().cloned().collect(),
            secrets: Secrets::default(),
        });
    }
    resources
}

/// Parses a list of scope names, each of which must be declared.
fn known_scopes(
    names: &[String],
    path: &str,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> ScopeSet {
    let mut set = ScopeSet::default();
    for (j, name) in names.iter().enumerate() {
        match name.parse::<ScopeToken>() {
            Ok(s) if declared.contains(&s) => set.insert(s),
            Ok(s) => problems.add_hinted(
                format!("{path}[{j}]"),
                format!("scope {s} is not declared in [[api_scopes]]"),
                Some("add [[api_scopes]] name = \"...\" or fix the spelling"),
            ),
            Err(e) => problems.add(format!("{path}[{j}]"), e.to_string()),
        }
    }
    set
}

fn client(
    c: &RawClient,
    i: usize,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> Option<Client> {
    let at = |k: &str| format!("clients[{i}].{k}");
    let before = problems.len();
    let id = c
        .client_id
        .parse::<ClientId>()
        .map_err(|e| problems.add(at("client_id"), e))
        .ok();
    let grant_types = grant_types(
        c.allowed_grant_types.as_deref(),
        &at("allowed_grant_types"),
        problems,
    );
    let allowed_scopes = known_scopes(&c.allowed_scopes, &at("allowed_scopes"), declared, problems);
    let access_token_lifetime = match &c.access_token_lifetime {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(d) => duration::parse(d).unwrap_or_else(|e| {
            problems.add(at("access_token_lifetime"), e);
            DEFAULT_TOKEN_LIFETIME
        }),
    };
    let mut claims = serde_json::Map::new();
    for (name, value) in &c.claims {
        if REGISTERED_CLAIMS.contains(&name.as_str()) {
            problems.add(
                format!("{}.{name}", at("claims")),
                format!("claim {name:?} is set by tollgate itself and cannot be overridden"),
            );
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
    let secrets = secrets(&c.secrets, &at("secrets"), problems);
    if problems.len() > before {
        return None;
    }
    Some(Client {
        id: id?,
        grant_types,
        allowed_scopes,
        access_token_lifetime,
        enabled: c.enabled.unwrap_or(true),
        claims,
        secrets,
    })
}

fn grant_types(
    names: Option<&[String]>,
    path: &str,
    problems: &mut Problems<'_>,
) -> Vec<GrantType> {
    let Some(names) = names else {
        return vec![GrantType::ClientCredentials];
    };
    let supported: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    names
        .iter()
        .enumerate()
        .filter_map(|(j, g)| match g.parse::<GrantType>() {
            Ok(g) => Some(g),
            Err(()) => {
                problems.add(
                    format!("{path}[{j}]"),
                    format!(
                        "grant type {g:?} is not supported (supported: {})",
                        supported.join(", ")
                    ),
                );
                None
            }
        })
        .collect()
}

/// `[[...secrets]]`: Argon2id hashes only, and their fingerprint.
pub(super) fn secrets(raw: &[RawSecret], path: &str, problems: &mut Problems<'_>) -> Secrets {
    let mut list = Vec::with_capacity(raw.len());
    for (j, s) in raw.iter().enumerate() {
        let hash = s.hash.parse::<SecretHash>().map_err(|e| {
            let plaintext = !s.hash.starts_with('$');
            let (message, hint) = if plaintext {
                (
                    "this looks like a plaintext secret; only Argon2id hashes may be stored"
                        .to_owned(),
                    Some("run `tollgate hash-secret` and paste the $argon2id$... line it prints"),
                )
            } else {
                (e, None)
            };
            problems.add_hinted(format!("{path}[{j}].hash"), message, hint)
        });
        let expires = match &s.expires {
            None => Ok(None),
            Some(raw) => parse_datetime(raw)
                .map(Some)
                .map_err(|e| problems.add(format!("{path}[{j}].expires"), e)),
        };
        if let (Ok(hash), Ok(expires)) = (hash, expires) {
            list.push(ClientSecret { hash, expires });
        }
    }
    let mut parts: Vec<Vec<u8>> = Vec::with_capacity(raw.len() * 2);
    for (raw, secret) in raw.iter().zip(&list) {
        parts.push(raw.hash.as_bytes().to_vec());
        let expires = secret
            .expires
            .map_or(i128::MIN, |e| e.unix_timestamp_nanos());
        parts.push(expires.to_be_bytes().to_vec());
    }
    Secrets {
        fingerprint: crate::digest::sha256_parts(parts.iter().map(Vec::as_slice)),
        list,
    }
}

/// How soon before a secret expires `check` starts warning.
const EXPIRY_WARNING: time::Duration = time::Duration::days(14);

pub(super) fn warn(
    config: &Config,
    raw: &RawConfig,
    now: OffsetDateTime,
    problems: &mut Problems<'_>,
) {
    for (i, c) in raw.clients.iter().enumerate() {
        let Some(client) = config.registry.client(&c.client_id) else {
            continue;
        };
        for (j, s) in client.secrets.list.iter().enumerate() {
            if let Some(expires) = s.expires {
                let path = format!("clients[{i}].secrets[{j}].expires");
                if expires <= now {
                    problems.add(path, "this secret has expired and no longer authenticates");
                } else if expires - now < EXPIRY_WARNING {
                    let days = (expires - now).whole_days();
                    problems.add_hinted(
                        path,
                        format!("this secret expires in {days} days"),
                        Some("add a new [[clients.secrets]] entry now and hand out its secret"),
                    );
                }
            }
        }
        if client.enabled && client.secrets.valid_at(now).next().is_none() {
            problems.add(
                format!("clients[{i}]"),
                "this client has no valid secret and cannot authenticate",
            );
        }
    }
}
