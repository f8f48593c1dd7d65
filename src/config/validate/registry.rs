//! The rules of `[[api_scopes]]`, `[[api_resources]]` and `[[clients]]`:
//! each list validated, then indexed into the protocol core's
//! [`Registry`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use time::OffsetDateTime;

use super::super::Config;
use super::super::problems::Problems;
use super::super::raw::RawConfig;
use super::clients::{self, ClientContext};
use super::federation;
use super::values::{known_scopes, secrets};
use tollgate_core::{ApiResource, ApiScope, Client, Registry, ScopeSet, ScopeToken};

pub(super) fn build(
    raw: &RawConfig,
    base: &Path,
    problems: &mut Problems<'_>,
    reused: &[Option<Arc<Client>>],
) -> Registry {
    let scopes = scopes(raw, problems);
    let declared: ScopeSet = scopes.iter().map(|s| s.name.clone()).collect();
    let resources = resources(raw, &declared, problems);
    let issuers = federation::trusted_issuers(&raw.trusted_issuers, base, problems);
    let cx = ClientContext {
        declared: &declared,
        issuers: &issuers,
        base,
    };
    let mut clients: Vec<Arc<Client>> = Vec::with_capacity(raw.clients.len());
    let mut ids = HashSet::with_capacity(raw.clients.len());
    for (i, c) in raw.clients.iter().enumerate() {
        if !ids.insert(c.client_id.as_str()) {
            problems.add(
                format!("clients[{i}].client_id"),
                format!("client_id {:?} is used by an earlier client", c.client_id),
            );
            continue;
        }
        if let Some(Some(client)) = reused.get(i) {
            clients.push(client.clone());
        } else if let Some(client) = clients::client(c, i, &cx, problems) {
            clients.push(Arc::new(client));
        }
    }
    Registry::new(scopes, resources, clients, issuers)
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
            secrets: secrets(&r.secrets, &format!("api_resources[{i}].secrets"), problems),
        });
    }
    resources
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
        // A secret that outlives the warning: the others expiring soon are
        // being rotated out (as `clients rotate-secret` does), not a risk.
        let successor = client
            .secrets
            .list
            .iter()
            .any(|s| s.expires.is_none_or(|e| e - now >= EXPIRY_WARNING));
        for (j, s) in client.secrets.list.iter().enumerate() {
            if let Some(expires) = s.expires {
                let path = format!("clients[{i}].secrets[{j}].expires");
                if expires <= now {
                    problems.add(path, "this secret has expired and no longer authenticates");
                } else if expires - now < EXPIRY_WARNING && !successor {
                    let days = (expires - now).whole_days();
                    problems.add_hinted(
                        path,
                        format!("this secret expires in {days} days"),
                        Some("add a new [[clients.secrets]] entry now and hand out its secret"),
                    );
                }
            }
        }
        let other_ways =
            !matches!(client.keys, tollgate_core::KeySource::None) || !client.federated.is_empty();
        if client.enabled && !other_ways && client.secrets.valid_at(now).next().is_none() {
            problems.add(
                format!("clients[{i}]"),
                "this client has no valid secret and cannot authenticate",
            );
        }
    }
}
