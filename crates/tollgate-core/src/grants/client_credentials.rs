//! The client_credentials grant (RFC 6749 §4.4), however the client
//! authenticated (a platform token as the grant, RFC 7523 §2.1, is this
//! grant presented differently): the scopes and audiences an
//! authenticated client gets, narrowed by resource indicators (RFC 8707)
//! when the request names its APIs.

use std::sync::Arc;

use super::super::client::Client;
use super::super::error::{ErrorCode, OAuthError};
use super::super::grant::{Grant, invalid_target, narrowed, requested_scopes};
use super::super::refusal::Refusal;
use super::super::registry::Registry;
use super::super::scope::ScopeSet;

/// Checks the grant type, the resources and the scope of an
/// authenticated client (`client_credentials`, however presented).
pub(crate) fn grant(
    registry: &Registry,
    client: Arc<Client>,
    requested_scope: Option<&str>,
    resources: &[&str],
) -> Result<Grant, Refusal> {
    let scopes = requested_scopes(registry, &client, requested_scope)?;
    if scopes.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "no scope requested and the client has no allowed scopes",
        )
        .into());
    }
    if !resources.is_empty() {
        return targeted(registry, client, scopes, resources).map_err(Refusal::from);
    }
    let audiences = registry
        .resources()
        .iter()
        .filter(|r| r.scopes.iter().any(|s| scopes.contains(s)))
        .map(|r| r.name.clone())
        .collect();
    Ok(Grant {
        client,
        scopes,
        audiences,
        delegation: None,
        copied: serde_json::Map::new(),
        person: None,
    })
}

/// RFC 8707: the token is for exactly the requested resources, each an
/// absolute URI naming an `[[api_resources]]` entry the client can reach
/// through its allowed scopes; the scopes are the requested (or allowed)
/// ones that belong to them.
fn targeted(
    registry: &Registry,
    client: Arc<Client>,
    scopes: ScopeSet,
    resources: &[&str],
) -> Result<Grant, OAuthError> {
    for name in resources {
        // §2: "an absolute URI ... MUST NOT include a fragment component".
        let absolute = url::Url::parse(name).is_ok_and(|u| u.fragment().is_none());
        if !absolute {
            return Err(invalid_target(format!(
                "resource {name} is not an absolute URI"
            )));
        }
        let Some(resource) = registry.resource(name) else {
            return Err(invalid_target(format!("resource {name} is unknown")));
        };
        if !resource
            .scopes
            .iter()
            .any(|s| client.allowed_scopes.contains(s))
        {
            return Err(invalid_target(format!(
                "resource {name} is not reachable through the client's scopes"
            )));
        }
    }
    let (granted, audiences) = narrowed(registry, &scopes, resources, true)?;
    Ok(Grant {
        client,
        scopes: granted,
        audiences,
        delegation: None,
        copied: serde_json::Map::new(),
        person: None,
    })
}
