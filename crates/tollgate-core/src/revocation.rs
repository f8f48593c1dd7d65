//! Token revocation (RFC 7009): a client authenticates as at the token
//! endpoint and names one of its tokens. A refresh token's whole family is
//! revoked; an access token of ours is remembered as revoked until it
//! expires (introspection and userinfo then refuse it). An unknown or
//! invalid token, or another client's, changes nothing and is answered
//! like a revoked one (§2.2): the answer tells no one what a token is.

use serde_json::Value;
use time::OffsetDateTime;

use super::auth;
use super::grants::signed_in::{Session, replay_refusal, revoke_family, revoked_key};
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal, RefusedRequest};
use super::sealed::Purpose;
use super::standing::OwnTokens;
use super::token_request::Request;

const PARAMETERS: [&str; 6] = [
    "token",
    "token_type_hint",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// What a revocation request did, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// A refresh token's family.
    RefreshFamily,
    /// An access token, until it expires.
    AccessToken,
    /// Nothing: not a token of this client's.
    Nothing,
}

/// Runs a revocation request; `Ok` is always answered 200.
pub async fn revoke<P: Ports + OwnTokens>(
    cx: &Context<'_>,
    ports: &P,
    request: Request<'_>,
) -> Result<(String, Revoked), RefusedRequest> {
    let params = Params::parse(request.body, &PARAMETERS, &[])?;
    let credential = auth::extract(&params, request.authorization, request.certificate)?;
    let claimed_id = credential.claimed_id().map(str::to_owned);
    let claimed = |refusal: Refusal| RefusedRequest {
        refusal,
        claimed_id: claimed_id.clone(),
    };
    let client = credential
        .authenticate(cx, ports)
        .await
        .map_err(claimed)?
        .client;
    let token = params.get("token").ok_or_else(|| {
        claimed(Refusal::invalid_request(
            Reason::MissingParameter,
            "token is missing",
        ))
    })?;
    let id = client.id.as_str();
    // The hint only saves a lookup (§2.1): both kinds are tried.
    if let Some(session) = cx
        .sealing
        .and_then(|key| key.open::<Session>(Purpose::RefreshToken, token))
    {
        if session.client_id != id {
            return Ok((id.to_owned(), Revoked::Nothing));
        }
        revoke_family(ports, &session.family, id, session.family_exp, cx.now)
            .await
            .map_err(claimed)?;
        return Ok((id.to_owned(), Revoked::RefreshFamily));
    }
    let Some(claims) = ports.claims(token, cx.now).await else {
        return Ok((id.to_owned(), Revoked::Nothing));
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let (Some(jti), Some(owner)) = (text("jti"), text("client_id")) else {
        return Ok((id.to_owned(), Revoked::Nothing));
    };
    if owner != id || exp <= cx.now.unix_timestamp() {
        return Ok((id.to_owned(), Revoked::Nothing));
    }
    let until = OffsetDateTime::from_unix_timestamp(exp).unwrap_or(cx.now);
    ports
        .first_use(revoked_key(jti), id, until, cx.now)
        .await
        .map_err(|e| claimed(replay_refusal(e)))?;
    Ok((id.to_owned(), Revoked::AccessToken))
}
