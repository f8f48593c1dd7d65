//! The client_credentials grant (RFC 6749 §4.4): which scopes and audiences
//! an authenticated client gets.

use std::sync::Arc;

use super::client::{Client, GrantType};
use super::error::{ErrorCode, OAuthError};
use super::registry::Registry;
use super::scope::ScopeSet;

/// What the server decided to grant.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client: Arc<Client>,
    pub scopes: ScopeSet,
    /// The API resources whose scopes were granted (may be empty).
    pub audiences: Vec<String>,
}

/// Checks the grant type and the scope of an authenticated client.
pub fn client_credentials(
    registry: &Registry,
    client: Arc<Client>,
    grant_type: &str,
    requested_scope: Option<&str>,
) -> Result<Grant, OAuthError> {
    let grant_type: GrantType = grant_type.parse().map_err(|()| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "only grant_type=client_credentials is supported",
        )
    })?;
    if !client.grant_types.contains(&grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("the client may not use {}", grant_type.as_str()),
        ));
    }
    let scopes = match requested_scope {
        // RFC 6749 §3.3 lets the server apply a default when scope is
        // omitted; ours is everything the client is allowed.
        None => client.allowed_scopes.clone(),
        Some(raw) => {
            let requested: ScopeSet = raw
                .parse()
                .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, format!("{e}")))?;
            if let Some(bad) = requested
                .iter()
                .find(|s| !client.allowed_scopes.contains(s))
            {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("scope {bad} is unknown or not allowed for this client"),
                ));
            }
            requested
        }
    };
    if scopes.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "no scope requested and the client has no allowed scopes",
        ));
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
    })
}
