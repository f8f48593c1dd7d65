//! Token introspection (RFC 7662): an API that cannot validate JWTs asks
//! whether a token is active. The caller authenticates as an API resource
//! with its secret (the same code, cache and throttle as clients). A token
//! is active only while its signature checks against a published key, it
//! has not expired, its client still exists and is enabled in the file in
//! force, it was issued at or after the client's `tokens_valid_after`, and
//! the caller is in its `aud`, and it was not revoked (RFC 7009): removing or disabling a client, or one edit
//! of `tokens_valid_after`, deactivates its tokens at once.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::access_token::TokenType;
use super::auth::secret;
use super::error::Challenge;
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal, RefusedRequest};
use super::registry::ApiResource;
use super::standing::{OwnTokens, own_token_standing};

const PARAMETERS: [&str; 6] = [
    "token",
    "token_type_hint",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// The answer: inactive, or active with what RFC 7662 §2.2 lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Introspection {
    Inactive,
    Active(Map<String, Value>),
}

/// Runs an introspection request.
pub async fn introspect<P: Ports + OwnTokens>(
    cx: &Context<'_>,
    ports: &P,
    body: &[u8],
    authorization: Option<&[u8]>,
) -> Result<(Arc<ApiResource>, Introspection), RefusedRequest> {
    let params = Params::parse(body, &PARAMETERS, &[])?;
    if params.get("client_assertion").is_some() || params.get("client_assertion_type").is_some() {
        return Err(Refusal::invalid_request(
            Reason::SeveralAuthMethods,
            "an API resource authenticates with its secret (Basic or client_secret)",
        )
        .into());
    }
    let presented = match secret::extract(&params, authorization) {
        Some(p) => p?,
        None => return Err(Refusal::client(Reason::NoCredentials, Challenge::None).into()),
    };
    let claimed_id = presented.id.clone();
    let resource = secret::verify::<ApiResource, P>(presented, cx, ports)
        .await
        .map_err(|refusal| RefusedRequest {
            refusal,
            claimed_id: Some(claimed_id.clone()),
        })?;
    let token = params.get("token").ok_or_else(|| RefusedRequest {
        refusal: Refusal::invalid_request(Reason::MissingParameter, "token is missing"),
        claimed_id: Some(claimed_id.clone()),
    })?;
    let answer = match ports.claims(token, cx.now).await {
        Some(claims) if active(cx, &resource, &claims) && !revoked(cx, ports, &claims).await => {
            Introspection::Active(response(claims))
        }
        _ => Introspection::Inactive,
    };
    Ok((resource, answer))
}

/// Whether the token was revoked (RFC 7009); a store that cannot say
/// counts as revoked: "active" must be sure.
async fn revoked<P: Ports>(cx: &Context<'_>, ports: &P, claims: &Map<String, Value>) -> bool {
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
    ports
        .used(super::grants::signed_in::revoked_key(jti), cx.now)
        .await
        .unwrap_or(true)
}

/// The activity rules, against the file in force.
fn active(cx: &Context<'_>, resource: &ApiResource, claims: &Map<String, Value>) -> bool {
    if own_token_standing(cx, claims).is_err() {
        return false;
    }
    match claims.get("aud") {
        Some(Value::String(a)) => *a == resource.name,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&resource.name)),
        _ => false,
    }
}

/// RFC 7662 §2.2: `active` and the token's own claims.
fn response(claims: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("active".into(), Value::Bool(true));
    // A certificate-bound token (`x5t#S256` alone) stays a bearer token
    // in form (RFC 8705 §3); only a DPoP key makes it DPoP.
    let token_type = match claims.get("cnf").and_then(|c| c.get("jkt")) {
        Some(_) => TokenType::DPoP,
        None => TokenType::Bearer,
    };
    for name in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "nbf",
        "jti",
        "cnf",
        "act",
        "sub_id",
    ] {
        if let Some(v) = claims.get(name) {
            out.insert(name.into(), v.clone());
        }
    }
    out.insert(
        "token_type".into(),
        Value::String(token_type.as_str().into()),
    );
    out
}
