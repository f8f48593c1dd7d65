//! Token exchange (RFC 8693): an authenticated client presents a token
//! issued to a subject and gets one for an API, acting for that subject.
//! What a client may exchange is declared in the file
//! (`[[clients.token_exchange]]`): whose tokens (ours, or a trusted
//! issuer's), for which audience they were issued, and which APIs the new
//! token may be for. The new token keeps the subject (`sub`), names the
//! client as the actor (`act`, with the subject token's own `act` nested
//! inside, so a chain stays visible: §4.1) and never outlives the subject
//! token.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::super::auth::assertion::{check_header, check_times, signed_by};
use super::super::auth::federated::lifetime;
use super::super::auth::keys::{current_keys, has_kid};
use super::super::client::Client;
use super::super::error::{ErrorCode, OAuthError};
pub use super::super::grant::MAX_ACTORS;
use super::super::grant::{Delegation, Grant, actors, invalid_target, narrowed, requested_scopes};
use super::super::params::Params;
use super::super::ports::{Context, Ports};
use super::super::refusal::{Reason, Refusal};
use super::super::rules::{ExchangeRule, SubjectIssuer};
use super::super::scope::ScopeSet;
use super::super::standing::{OwnTokens, foreign_subject_issuer, own_token_standing};
use super::signed_in::revoked_key;
use tollgate_jose::jose;

/// RFC 8693 §3: an OAuth 2.0 access token (tollgate's own).
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 §3: a JWT (a trusted issuer's token).
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// The most a trusted issuer's `act` may weigh, serialized: it is carried
/// into every token made from the subject token.
const MAX_ACT_BYTES: usize = 1024;

/// The one description of a subject token this client cannot exchange,
/// whatever the reason.
const NOT_EXCHANGEABLE: &str = "the subject token is not one this client may exchange";

/// A subject token that checked out.
struct Subject {
    issuer: SubjectIssuer,
    /// The trusted issuer whose subject `sub` is (its `iss`); `None`: one
    /// of ours.
    subject_issuer: Option<String>,
    sub: String,
    exp: i64,
    aud: Vec<String>,
    /// Its own `act`: who acted for the subject before.
    act: Option<Value>,
    /// RFC 8693 §4.4: who may act for the subject, if the token says.
    may_act: Option<Value>,
}

/// The grant of a token exchange by `client` (already authenticated and
/// allowed the grant type).
pub(crate) async fn grant<P: Ports + OwnTokens>(
    cx: &Context<'_>,
    ports: &P,
    client: Arc<Client>,
    params: &Params,
    resources: &[&str],
) -> Result<Grant, Refusal> {
    if params.get("actor_token").is_some() || params.get("actor_token_type").is_some() {
        // The actor is the authenticated client; another actor's token
        // would name someone the server cannot vouch for.
        return Err(Refusal::invalid_request(
            Reason::UnsupportedTokenType,
            "actor_token is not supported: the actor is the authenticated client",
        ));
    }
    if let Some(requested) = params.get("requested_token_type")
        && requested != ACCESS_TOKEN_TYPE
    {
        return Err(Refusal::invalid_request(
            Reason::UnsupportedTokenType,
            format!("requested_token_type must be {ACCESS_TOKEN_TYPE}"),
        ));
    }
    let (Some(token), Some(kind)) = (
        params.get("subject_token"),
        params.get("subject_token_type"),
    ) else {
        return Err(Refusal::invalid_request(
            Reason::MissingParameter,
            "subject_token and subject_token_type are required",
        ));
    };
    if kind != ACCESS_TOKEN_TYPE && kind != JWT_TOKEN_TYPE {
        return Err(Refusal::invalid_request(
            Reason::UnsupportedTokenType,
            format!("subject_token_type must be {ACCESS_TOKEN_TYPE} or {JWT_TOKEN_TYPE}"),
        ));
    }
    // One answer for a token that is not valid and for one this client may
    // not exchange: a client learns nothing of tokens it cannot use (the
    // reason is in the audit trail).
    let subject = subject(cx, ports, token)
        .await
        .map_err(|reason| Refusal::invalid_grant(reason, NOT_EXCHANGEABLE))?;
    // §4.4: a subject token naming who may act for it admits that actor
    // alone.
    if let Some(may_act) = &subject.may_act
        && may_act.get("sub").and_then(Value::as_str) != Some(client.id.as_str())
    {
        return Err(Refusal::invalid_grant(
            Reason::NoExchangeRule,
            NOT_EXCHANGEABLE,
        ));
    }
    let rules: Vec<&ExchangeRule> = client
        .token_exchange
        .iter()
        .filter(|r| r.subject_issuer == subject.issuer && subject.aud.contains(&r.subject_audience))
        .collect();
    if rules.is_empty() {
        return Err(Refusal::invalid_grant(
            Reason::NoExchangeRule,
            NOT_EXCHANGEABLE,
        ));
    }
    let mut act = Map::new();
    act.insert("sub".into(), Value::String(client.id.as_str().to_owned()));
    if let Some(previous) = subject.act {
        act.insert("act".into(), previous);
    }
    let act = Value::Object(act);
    if actors(&act).len() > MAX_ACTORS {
        // Rules that let tokens go round would otherwise nest an actor a
        // hop, until the token is too large for anyone to accept.
        return Err(Refusal::invalid_grant(
            Reason::ActChainTooDeep,
            "the subject token has been exchanged too many times",
        ));
    }
    let allowed: Vec<&str> = rules
        .iter()
        .flat_map(|r| r.resources.iter().map(String::as_str))
        .collect();
    let targets: Vec<&str> = match resources {
        [] => dedup(allowed.iter().copied()),
        asked => dedup(asked.iter().copied()),
    };
    if let Some(outside) = targets.iter().find(|t| !allowed.contains(t)) {
        return Err(Refusal::from(invalid_target(format!(
            "resource {outside} is not one this client may exchange tokens for"
        ))));
    }
    let (scopes, audiences) = scopes(cx, &client, params.get("scope"), &targets, resources)?;
    Ok(Grant {
        client,
        scopes,
        audiences,
        delegation: Some(Delegation {
            subject: subject.sub,
            act,
            not_after: subject.exp,
            subject_issuer: subject.subject_issuer,
        }),
        copied: Map::new(),
        person: None,
    })
}

/// The scope: the requested one (or everything the client is allowed),
/// narrowed to the targets' scopes. A target the request named must get
/// one of them; one taken by default without any is left out.
fn scopes(
    cx: &Context<'_>,
    client: &Client,
    requested: Option<&str>,
    targets: &[&str],
    asked: &[&str],
) -> Result<(ScopeSet, Vec<String>), Refusal> {
    let base = requested_scopes(cx.registry, client, requested)?;
    let (granted, audiences) = narrowed(cx.registry, &base, targets, !asked.is_empty())?;
    if granted.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "none of the client's scopes belongs to a resource it may exchange tokens for",
        )
        .into());
    }
    Ok((granted, audiences))
}

/// Checks the subject token: ours (signed by a key we publish, still
/// standing in the file in force), or a trusted issuer's (signed by its
/// keys, within its lifetime).
async fn subject<P: Ports + OwnTokens>(
    cx: &Context<'_>,
    ports: &P,
    token: &str,
) -> Result<Subject, Reason> {
    let token = token.trim_matches(|c: char| c.is_ascii_whitespace());
    let jwt = jose::peek(token).ok_or(Reason::InvalidSubjectToken)?;
    let iss = jwt.claims.get("iss").and_then(Value::as_str);
    let (issuer, claims) = if iss == Some(cx.issuer) {
        let claims = ports
            .claims(token, cx.now)
            .await
            .ok_or(Reason::InvalidSubjectToken)?;
        own_token_standing(cx, &claims)?;
        // Revoked (RFC 7009) is revoked here too; a store that cannot say
        // lets nothing through.
        let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
        match ports.used(revoked_key(jti), cx.now).await {
            Ok(false) => {}
            Ok(true) => return Err(Reason::SubjectTokenRevoked),
            Err(_) => return Err(Reason::ReplayStoreUnavailable),
        }
        (SubjectIssuer::Own, claims)
    } else {
        let trusted = iss
            .and_then(|iss| cx.registry.trusted_issuer(iss))
            .ok_or(Reason::InvalidSubjectToken)?;
        // The checks a client assertion passes, but their failures are the
        // subject token's: the client authenticated, and a bad subject
        // token is no failed authentication (not counted, not padded).
        let checked = async {
            let alg = check_header(&jwt)?;
            let keys =
                current_keys(&trusted.keys, has_kid(jwt.header.kid.as_deref()), ports).await?;
            ports.timed(|| signed_by(token, &jwt, alg, &keys))?;
            check_times(&jwt.claims, cx.now.unix_timestamp(), lifetime(trusted))
        };
        checked.await.map_err(|reason| match reason {
            Reason::AssertionExpired => Reason::SubjectTokenExpired,
            _ => Reason::InvalidSubjectToken,
        })?;
        (SubjectIssuer::Trusted(trusted.name.clone()), jwt.claims)
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(Reason::InvalidSubjectToken)?;
    if exp <= cx.now.unix_timestamp() {
        return Err(Reason::SubjectTokenExpired);
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(Reason::InvalidSubjectToken)?
        .to_owned();
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // Whose subject it is: a trusted issuer's, when the subject token is
    // one, or one of ours that already named one in `sub_id`.
    let subject_issuer = match &issuer {
        SubjectIssuer::Trusted(_) => Some(iss.clone()),
        SubjectIssuer::Own => foreign_subject_issuer(&claims, cx.issuer).map(str::to_owned),
    };
    let act = match (claims.get("act"), &issuer) {
        (None, _) => None,
        (Some(act), SubjectIssuer::Own) => Some(act.clone()),
        (Some(act), SubjectIssuer::Trusted(_)) => Some(foreign_act(act, &iss, cx.issuer)?),
    };
    Ok(Subject {
        issuer,
        subject_issuer,
        sub,
        exp,
        aud,
        act,
        may_act: claims.get("may_act").cloned(),
    })
}

/// A trusted issuer's `act`, as the new token nests it: a JSON object
/// whose every level has a string `sub` (RFC 8693 §4.1), of bounded size,
/// marked with its issuer so that its actors are never taken for our
/// clients (they are the trusted issuer's).
fn foreign_act(act: &Value, iss: &str, ours: &str) -> Result<Value, Reason> {
    let mut at = Some(act);
    while let Some(level) = at {
        let Value::Object(level) = level else {
            return Err(Reason::InvalidSubjectToken);
        };
        if !level.get("sub").is_some_and(Value::is_string) {
            return Err(Reason::InvalidSubjectToken);
        }
        at = level.get("act");
    }
    let size = serde_json::to_vec(act).map_or(usize::MAX, |v| v.len());
    if size > MAX_ACT_BYTES {
        return Err(Reason::InvalidSubjectToken);
    }
    let mut act = act.clone();
    if let Value::Object(level) = &mut act {
        let named = level.get("iss").and_then(Value::as_str);
        if named.is_none_or(|named| named == ours) {
            level.insert("iss".into(), Value::String(iss.to_owned()));
        }
    }
    Ok(act)
}

/// In order, each once.
fn dedup<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}
