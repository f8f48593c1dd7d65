//! What every grant shares: the scope rule (requested, each allowed, else
//! all allowed), RFC 8707's narrowing to the resources, the grant type
//! check, and the `Grant` the grants return, which the access token is
//! made from. The grants themselves are in `grants/`.

use std::sync::Arc;

use super::client::{Client, GrantType};
use super::error::{ErrorCode, OAuthError};
use super::refusal::{Reason, Refusal};
use super::registry::Registry;
use super::scope::ScopeSet;

/// What the server decided to grant.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client: Arc<Client>,
    pub scopes: ScopeSet,
    /// The API resources whose scopes were granted (may be empty).
    pub audiences: Vec<String>,
    /// Token exchange: the subject the token is for, and who acts.
    pub delegation: Option<Delegation>,
    /// Claims copied from the platform token that authenticated the
    /// client (`copy_claims`).
    pub copied: serde_json::Map<String, serde_json::Value>,
    /// The person the token is for (the code and refresh token grants):
    /// its `sub` and `auth_time`.
    pub person: Option<super::person::Person>,
}

/// A token issued for a subject by a client acting for it (RFC 8693).
#[derive(Debug, Clone)]
pub struct Delegation {
    /// The subject token's `sub`.
    pub subject: String,
    /// The `act` claim: the client, with the previous actors nested.
    pub act: serde_json::Value,
    /// The subject token's `exp`: the new token expires no later.
    pub not_after: i64,
    /// The trusted issuer whose subject this is (its `iss`); `None`: the
    /// subject is one of ours (a client). The token then says so in
    /// `sub_id`, so its standing is judged against the right file entries.
    pub subject_issuer: Option<String>,
}

impl Delegation {
    /// The actors, the current one first (`act.sub`, `act.act.sub`, ...).
    pub fn actors(&self) -> Vec<&str> {
        actors(&self.act)
    }
}

/// How many actors an issued token's `act` may nest, the current one
/// included (the contract's limit).
pub const MAX_ACTORS: usize = 8;

/// The actors of an `act` claim, the current one first.
pub(crate) fn actors(act: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut at = Some(act);
    while let Some(act) = at {
        match act.get("sub").and_then(serde_json::Value::as_str) {
            Some(sub) => out.push(sub),
            None => break,
        }
        at = act.get("act");
    }
    out
}

/// The grant type as sent, if tollgate knows it and the client may use it.
pub(crate) fn allowed(client: &Client, grant_type: &str) -> Result<GrantType, OAuthError> {
    let grant_type: GrantType = grant_type.parse().map_err(|()| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "the supported grant types are client_credentials, {} and {}",
                GrantType::TokenExchange.as_str(),
                super::client::JWT_BEARER_GRANT
            ),
        )
    })?;
    if !client.grant_types.contains(&grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("the client may not use {}", grant_type.as_str()),
        ));
    }
    Ok(grant_type)
}

/// The scopes a request asks for, each one the client may have; without
/// `scope`, every scope it may have (RFC 6749 §3.3 lets the server apply
/// a default). Shared by every grant. The client hears one answer for a
/// scope it may not have; the audit reason says whether the file declares
/// the scope at all.
pub(crate) fn requested_scopes(
    registry: &Registry,
    client: &Client,
    requested: Option<&str>,
) -> Result<ScopeSet, Refusal> {
    let Some(raw) = requested else {
        return Ok(client.allowed_scopes.clone());
    };
    let requested: ScopeSet = raw
        .parse()
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, format!("{e}")))?;
    if let Some(bad) = requested
        .iter()
        .find(|s| !client.allowed_scopes.contains(s))
    {
        let reason = if registry.scopes_supported().contains(bad) {
            Reason::ScopeNotAllowed
        } else {
            Reason::UnknownScope
        };
        let error = OAuthError::new(
            ErrorCode::InvalidScope,
            format!("scope {bad} is unknown or not allowed for this client"),
        );
        return Err(Refusal::new(error, reason));
    }
    Ok(requested)
}

/// RFC 8707's narrowing, one rule for every grant: the scopes of `base`
/// that belong to the `targets` (in `base`'s order), and the targets that
/// got one, each once: the token's audiences. A resource is in `aud` only
/// for a scope the token grants it. A target the request named (`asked`)
/// that gets none is `invalid_target` (§2: a resource the server will not
/// issue a token for, as requested); one taken by default is left out.
pub(crate) fn narrowed(
    registry: &Registry,
    base: &ScopeSet,
    targets: &[&str],
    asked: bool,
) -> Result<(ScopeSet, Vec<String>), OAuthError> {
    let mut audiences: Vec<String> = Vec::with_capacity(targets.len());
    let mut granted = ScopeSet::default();
    for name in targets {
        let Some(resource) = registry.resource(name) else {
            return Err(invalid_target(format!("resource {name} is unknown")));
        };
        let mut its = resource
            .scopes
            .iter()
            .filter(|s| base.contains(s))
            .peekable();
        if its.peek().is_none() {
            if !asked {
                continue;
            }
            return Err(invalid_target(format!(
                "none of the requested scopes belongs to resource {name}"
            )));
        }
        its.for_each(|s| {
            granted.insert(s.clone());
        });
        if !audiences.contains(&resource.name) {
            audiences.push(resource.name.clone());
        }
    }
    let granted = base
        .iter()
        .filter(|s| granted.contains(s))
        .cloned()
        .collect();
    Ok((granted, audiences))
}

/// RFC 8707's `invalid_target`.
pub(crate) fn invalid_target(why: String) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, why)
}
