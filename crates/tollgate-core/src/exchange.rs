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

use super::auth::assertion::{check_header, check_times, signed_by};
use super::auth::federated::{current_keys, lifetime};
use super::client::Client;
use super::error::{ErrorCode, OAuthError};
use super::grant::{Delegation, Grant, requested_scopes};
use super::introspection::{OwnTokens, own_token_standing};
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal};
use super::scope::ScopeSet;
use tollgate_jose::jose;

/// RFC 8693 §3: an OAuth 2.0 access token (tollgate's own).
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 §3: a JWT (a trusted issuer's token).
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// Whose tokens a rule accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectIssuer {
    /// Tokens tollgate issued (`subject_issuer = "self"`).
    Own,
    /// Tokens of the `[[trusted_issuers]]` entry of this name.
    Trusted(String),
}

/// One `[[clients.token_exchange]]` entry.
#[derive(Debug, Clone)]
pub struct ExchangeRule {
    pub subject_issuer: SubjectIssuer,
    /// The subject token's `aud` must hold this.
    pub subject_audience: String,
    /// The `[[api_resources]]` the new token may be for.
    pub resources: Vec<String>,
}

/// A subject token that checked out.
struct Subject {
    issuer: SubjectIssuer,
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
    let subject = subject(cx, ports, token)
        .await
        .map_err(|reason| invalid_grant(reason, "the subject token is not valid"))?;
    // §4.4: a subject token naming who may act for it admits that actor
    // alone.
    if let Some(may_act) = &subject.may_act
        && may_act.get("sub").and_then(Value::as_str) != Some(client.id.as_str())
    {
        return Err(invalid_grant(
            Reason::NoExchangeRule,
            "the subject token's may_act does not name this client",
        ));
    }
    let rules: Vec<&ExchangeRule> = client
        .token_exchange
        .iter()
        .filter(|r| r.subject_issuer == subject.issuer && subject.aud.contains(&r.subject_audience))
        .collect();
    if rules.is_empty() {
        return Err(invalid_grant(
            Reason::NoExchangeRule,
            "this client may not exchange this subject token",
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
        return Err(invalid_target(format!(
            "resource {outside} is not one this client may exchange tokens for"
        )));
    }
    let (scopes, audiences) = scopes(cx, &client, params.get("scope"), &targets, resources)?;
    let mut act = Map::new();
    act.insert("sub".into(), Value::String(client.id.as_str().to_owned()));
    if let Some(previous) = subject.act {
        act.insert("act".into(), previous);
    }
    Ok(Grant {
        client,
        scopes,
        audiences,
        delegation: Some(Delegation {
            subject: subject.sub,
            act: Value::Object(act),
            not_after: subject.exp,
        }),
        copied: Map::new(),
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
    let mut granted = ScopeSet::default();
    let mut audiences = Vec::with_capacity(targets.len());
    for name in targets {
        let Some(resource) = cx.registry.resource(name) else {
            return Err(invalid_target(format!("resource {name} is unknown")));
        };
        let mut its = resource
            .scopes
            .iter()
            .filter(|s| base.contains(s))
            .peekable();
        if its.peek().is_none() {
            if asked.is_empty() {
                continue;
            }
            return Err(invalid_target(format!(
                "none of the requested scopes belongs to resource {name}"
            )));
        }
        its.for_each(|s| {
            granted.insert(s.clone());
        });
        audiences.push(resource.name.clone());
    }
    let granted: ScopeSet = base
        .iter()
        .filter(|s| granted.contains(s))
        .cloned()
        .collect();
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
        (SubjectIssuer::Own, claims)
    } else {
        let trusted = iss
            .and_then(|iss| cx.registry.trusted_issuer(iss))
            .ok_or(Reason::InvalidSubjectToken)?;
        let alg = check_header(&jwt)?;
        let keys = current_keys(trusted, jwt.header.kid.as_deref(), ports).await?;
        ports.timed(|| signed_by(token, &jwt, alg, &keys))?;
        check_times(&jwt.claims, cx.now.unix_timestamp(), lifetime(trusted))?;
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
    Ok(Subject {
        issuer,
        sub,
        exp,
        aud,
        act: claims.get("act").cloned(),
        may_act: claims.get("may_act").cloned(),
    })
}

/// A refusal with the grant's own error (RFC 6749 §5.2 `invalid_grant`).
pub(crate) fn invalid_grant(reason: Reason, description: &'static str) -> Refusal {
    Refusal::new(
        OAuthError::new(ErrorCode::InvalidGrant, description),
        reason,
    )
}

/// RFC 8707's `invalid_target` (the refusal's reason follows the code).
fn invalid_target(why: String) -> Refusal {
    OAuthError::new(ErrorCode::InvalidTarget, why).into()
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
