//! The refresh token grant (RFC 6749 §6) with rotation (OAuth 2.1 §4.3):
//! the token opens with the sealing key, is the client's, its family has
//! not reached `refresh_token_lifetime` from the sign-in nor been revoked,
//! the client and the person still stand since the sign-in, a bound
//! token's DPoP key is proven (RFC 9449 §5), and it is used once: each use
//! returns the next one. A used one presented again revokes its family,
//! across replicas (the replay store).

use std::sync::Arc;

use super::super::client::Client;
use super::super::error::{ErrorCode, OAuthError};
use super::super::params::Params;
use super::super::ports::{Context, Ports};
use super::super::refusal::{Reason, Refusal};
use super::super::scope::ScopeSet;
use super::super::sealed::Purpose;
use super::signed_in::{
    PersonGrant, Session, Use, family_key, person_stands, replay_refusal, used_first,
};

/// Uses the refresh token of the request for `client` (authenticated
/// already). `jkt`: the DPoP key the request proved, if any.
pub(crate) async fn grant<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    client: Arc<Client>,
    params: &Params,
    jkt: Option<&str>,
) -> Result<PersonGrant, Refusal> {
    let sealed = params.get("refresh_token").ok_or_else(|| {
        Refusal::invalid_request(Reason::MissingParameter, "refresh_token is missing")
    })?;
    let refuse =
        |reason| Refusal::invalid_grant(reason, "the refresh token is invalid, expired or revoked");
    let session: Session = cx
        .sealing
        .and_then(|key| key.open(Purpose::RefreshToken, sealed))
        .ok_or(refuse(Reason::InvalidRefreshToken))?;
    if session.client_id != client.id.as_str() {
        return Err(refuse(Reason::RefreshClientMismatch));
    }
    if session.family_exp <= cx.now.unix_timestamp() {
        return Err(refuse(Reason::RefreshTokenExpired));
    }
    if client
        .tokens_valid_after
        .is_some_and(|after| session.auth_time < after.unix_timestamp())
    {
        return Err(refuse(Reason::RefreshClientInactive));
    }
    person_stands(cx, &client, &session.sub, session.auth_time)?;
    if session.jkt.is_some() && session.jkt.as_deref() != jkt {
        return Err(Refusal::invalid_grant(
            Reason::RefreshDpopMismatch,
            "the refresh token is bound to a DPoP key the request does not prove",
        ));
    }
    let scope = narrower(&session.scope, params.get("scope"))?;
    if ports
        .used(family_key(&session.family), cx.now)
        .await
        .map_err(replay_refusal)?
    {
        return Err(refuse(Reason::RefreshFamilyRevoked));
    }
    let (family, until) = (session.family.as_str(), session.family_exp);
    let one = Use::Refresh { turn: session.turn };
    if !used_first(ports, family, until, one, client.id.as_str(), cx.now).await? {
        return Err(refuse(Reason::RefreshTokenReplayed));
    }
    // The next token takes the family's next turn.
    let mut session = session;
    session.turn = session.turn.saturating_add(1);
    session.grant(cx, client, &scope)
}

/// The scope of the new access token: `asked`, each one of the refresh
/// token's (RFC 6749 §6), or all of them.
fn narrower(granted: &str, asked: Option<&str>) -> Result<String, Refusal> {
    let Some(asked) = asked else {
        return Ok(granted.to_owned());
    };
    let granted: ScopeSet = granted.parse().unwrap_or_default();
    let asked: ScopeSet = asked
        .parse()
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, format!("{e}")))?;
    if let Some(wider) = asked.iter().find(|s| !granted.contains(s)) {
        return Err(Refusal::new(
            OAuthError::new(
                ErrorCode::InvalidScope,
                format!("scope {wider} was not granted to the refresh token"),
            ),
            Reason::RefreshScopeWidened,
        ));
    }
    Ok(asked.to_string())
}
