//! Token introspection (RFC 7662): an API that cannot validate JWTs asks
//! whether a token is active. The caller authenticates as an API resource
//! with its secret (the same code, cache and throttle as clients). A token
//! is active only while its signature checks against a published key, it
//! has not expired, its client still exists and is enabled in the file in
//! force, it was issued at or after the client's `tokens_valid_after`, and
//! the caller is in its `aud`: removing or disabling a client, or one edit
//! of `tokens_valid_after`, deactivates its tokens at once.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::auth::secret;
use super::error::Challenge;
use super::grant::MAX_ACTORS;
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal};
use super::registry::ApiResource;
use super::token_request::{Refused, TokenType};

const PARAMETERS: [&str; 6] = [
    "token",
    "token_type_hint",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// Verifies the signature of one of our own tokens against the keys
/// published now, and returns its claims.
pub trait OwnTokens: Sync {
    fn claims(
        &self,
        token: &str,
        now: time::OffsetDateTime,
    ) -> impl Future<Output = Option<Map<String, Value>>> + Send;
}

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
) -> Result<(Arc<ApiResource>, Introspection), Refused> {
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
        .map_err(|refusal| Refused {
            refusal,
            claimed_id: Some(claimed_id.clone()),
        })?;
    let token = params.get("token").ok_or_else(|| Refused {
        refusal: Refusal::invalid_request(Reason::MissingParameter, "token is missing"),
        claimed_id: Some(claimed_id.clone()),
    })?;
    let answer = match ports.claims(token, cx.now).await {
        Some(claims) if active(cx, &resource, &claims) => Introspection::Active(response(claims)),
        _ => Introspection::Inactive,
    };
    Ok((resource, answer))
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

/// Whether one of our tokens (its signature already checked) still stands
/// in the file in force: not expired, ours, and every client it stands
/// on present, enabled, and its `tokens_valid_after` at or before the
/// token's `iat` — its client, its subject (unless `sub_id` names a
/// trusted issuer's subject: that issuer must still be trusted) and each
/// actor of its `act` chain that is ours. So revoking a caller revokes
/// what was made from its tokens. Shared by introspection and token
/// exchange, so a token one refuses the other refuses too.
pub(crate) fn own_token_standing(
    cx: &Context<'_>,
    claims: &Map<String, Value>,
) -> Result<(), Reason> {
    let now = cx.now.unix_timestamp();
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(cx.issuer) {
        return Err(Reason::InvalidSubjectToken);
    }
    if number("exp").is_none_or(|exp| exp <= now) {
        return Err(Reason::SubjectTokenExpired);
    }
    let iat = number("iat");
    let stands = |id: Option<&str>| -> Result<(), Reason> {
        let client = id
            .and_then(|id| cx.registry.client(id))
            .ok_or(Reason::SubjectClientInactive)?;
        if !client.enabled {
            return Err(Reason::SubjectClientInactive);
        }
        if let Some(after) = client.tokens_valid_after
            && iat.is_none_or(|iat| iat < after.unix_timestamp())
        {
            return Err(Reason::SubjectTokenRevoked);
        }
        Ok(())
    };
    stands(text("client_id"))?;
    match foreign_subject_issuer(claims, cx.issuer) {
        Some(iss) if cx.registry.trusted_issuer(iss).is_none() => {
            return Err(Reason::SubjectClientInactive);
        }
        Some(_) => {}
        None => stands(text("sub"))?,
    }
    let mut act = claims.get("act");
    let mut depth = 0;
    while let Some(level) = act {
        depth += 1;
        if depth > MAX_ACTORS {
            return Err(Reason::ActChainTooDeep);
        }
        // From here on the actors are a trusted issuer's (the exchange
        // marked where its chain began).
        if level
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|iss| iss != cx.issuer)
        {
            break;
        }
        stands(level.get("sub").and_then(Value::as_str))?;
        act = level.get("act");
    }
    Ok(())
}

/// The issuer of a trusted issuer's subject the token names in `sub_id`
/// (RFC 9493 `iss_sub`); `None`: the subject is ours.
fn foreign_subject_issuer<'a>(claims: &'a Map<String, Value>, ours: &str) -> Option<&'a str> {
    let id = claims.get("sub_id")?;
    if id.get("format").and_then(Value::as_str) != Some("iss_sub") {
        return None;
    }
    id.get("iss")
        .and_then(Value::as_str)
        .filter(|iss| *iss != ours)
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
