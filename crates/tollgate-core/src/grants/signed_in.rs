//! What the authorization code and refresh token grants share: the scopes
//! and audiences of a person's token (identity scopes kept, never in
//! `aud`; API scopes narrowed by RFC 8707 to the resources of the
//! sign-in), what a signed-in session carries from one refresh token to
//! the next (sealed, `sealed::Purpose::RefreshToken`), the replay store's
//! keys of codes, refresh tokens and families, and the tokens issued after
//! the access token: the id token and the next refresh token.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::super::client::Client;
use super::super::error::{ErrorCode, OAuthError};
use super::super::grant::{Grant, narrowed};
use super::super::id_token::{self, IdToken};
use super::super::people::OPENID;
use super::super::person::{self, Person, person_claims};
use super::super::ports::{Context, Ports, TokenKind};
use super::super::refusal::{Reason, Refusal};
use super::super::scope::ScopeSet;
use super::super::sealed::Purpose;
use tollgate_jose::digest::sha256_parts;
use tollgate_jose::replay::ReplayError;

/// A refresh token's sealed payload: one session of a person at a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Session {
    /// The code's id: every refresh token of one sign-in shares it, and
    /// revoking it revokes them all.
    pub(crate) family: String,
    /// This token's turn in its family: the family's one entry in the
    /// replay store stands at it until the token is used, then moves on,
    /// so a token whose turn has passed is a replay (and one entry serves
    /// every rotation of a sign-in). Tokens sealed before turns were
    /// counted carry none: 0.
    #[serde(default)]
    pub(crate) turn: u64,
    pub(crate) client_id: String,
    pub(crate) sub: String,
    pub(crate) auth_time: i64,
    /// What the sign-in granted, space separated; a refresh may ask for
    /// less, never more (RFC 6749 §6).
    pub(crate) scope: String,
    /// RFC 8707 resources of the sign-in.
    pub(crate) resources: Vec<String>,
    /// Unix seconds: `auth_time` + the client's `refresh_token_lifetime`,
    /// absolute.
    pub(crate) family_exp: i64,
    /// RFC 9449 §5: the DPoP key a refresh must prove, if the first
    /// tokens were bound.
    pub(crate) jkt: Option<String>,
    /// A provider's person's claims as copied at sign-in.
    pub(crate) claims: Option<Map<String, Value>>,
    /// The browser session of the sign-in: every id token's `sid`.
    /// Absent from refresh tokens sealed before it was carried.
    #[serde(default)]
    pub(crate) sid: Option<String>,
}

/// A grant to a person, and what follows the access token.
#[derive(Debug)]
pub(crate) struct PersonGrant {
    pub grant: Grant,
    pub session: Session,
    /// The authorization request's `nonce` (a code's only).
    pub nonce: Option<String>,
    /// Whether a refresh token is issued (`offline_access`, and the
    /// client has the refresh_token grant).
    pub refresh: bool,
}

/// The replay store's key of a code, a refresh token or a family.
pub(crate) fn store_key(kind: &str, id: &str) -> [u8; 32] {
    sha256_parts([kind.as_bytes(), b"\0", id.as_bytes()])
}

/// The replay store's key under which an access token's `jti` is revoked
/// (RFC 7009): read by introspection, userinfo and token exchange.
pub(crate) fn revoked_key(jti: &str) -> [u8; 32] {
    store_key("revoked", jti)
}

/// The key under which a family is marked revoked.
pub(crate) fn family_key(family: &str) -> [u8; 32] {
    store_key("family", family)
}

/// Marks `family` revoked until `until`: its refresh tokens are refused.
pub(crate) async fn revoke_family<P: Ports>(
    ports: &P,
    family: &str,
    holder: &str,
    until: i64,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let until = OffsetDateTime::from_unix_timestamp(until).unwrap_or(now);
    // `false`: it was revoked already, which is as good.
    ports
        .first_use(family_key(family), holder, until, now)
        .await
        .map(|_| ())
        .map_err(replay_refusal)
}

/// How a code or a refresh token is used once.
pub(crate) enum Use<'a> {
    /// A code: its id recorded until `until` (Unix seconds).
    Code { id: &'a str, until: i64 },
    /// A refresh token: its family's turn moved on from `turn`, kept as
    /// long as the family lives.
    Refresh { turn: u64 },
}

/// Whether this is the first use, by `holder` (the client), of a code or
/// refresh token of `family` (which lives until `family_until`). If not,
/// whatever its first use issued goes: the family is revoked before the
/// answer (RFC 6749 §4.1.2 and §10.4; OAuth 2.1 §4.3.1).
pub(crate) async fn used_first<P: Ports>(
    ports: &P,
    family: &str,
    family_until: i64,
    how: Use<'_>,
    holder: &str,
    now: OffsetDateTime,
) -> Result<bool, Refusal> {
    let at = |unix| OffsetDateTime::from_unix_timestamp(unix).unwrap_or(now);
    let first = match how {
        Use::Code { id, until } => {
            let key = store_key("code", id);
            ports.first_use(key, holder, at(until), now).await
        }
        Use::Refresh { turn } => {
            let key = store_key("turn", family);
            ports
                .advance(key, holder, turn, at(family_until), now)
                .await
        }
    }
    .map_err(replay_refusal)?;
    if !first {
        revoke_family(ports, family, holder, family_until, now).await?;
    }
    Ok(first)
}

/// The replay store could not answer: the request cannot be judged.
pub(crate) fn replay_refusal(error: ReplayError) -> Refusal {
    match error {
        ReplayError::OverQuota => Refusal::new(
            OAuthError::unavailable(crate::auth::QUOTA_RETRY),
            Reason::ReplayQuotaExceeded,
        ),
        ReplayError::Unavailable => Refusal::new(
            OAuthError::unavailable(std::time::Duration::from_secs(1)),
            Reason::ReplayStoreUnavailable,
        ),
    }
}

impl Session {
    /// This session's grant of `scope` to `client`: the scopes and
    /// audiences it may still have, for the person it is of, with a next
    /// refresh token and no `nonce` (the code's grant sets both).
    pub(crate) fn grant(
        self,
        cx: &Context<'_>,
        client: Arc<Client>,
        scope: &str,
    ) -> Result<PersonGrant, Refusal> {
        let (granted, audiences) = scopes(cx, &client, scope, &self.resources)?;
        let person = Person {
            sub: self.sub.clone(),
            auth_time: self.auth_time,
        };
        let grant = person_grant(
            cx.registry,
            client,
            granted,
            audiences,
            person,
            self.claims.as_ref(),
        );
        Ok(PersonGrant {
            grant,
            session: self,
            nonce: None,
            refresh: true,
        })
    }
}

/// The person still stands for something she signed in to at
/// `auth_time`, and the client's `allowed_groups` admit her.
pub(crate) fn person_stands(
    cx: &Context<'_>,
    client: &Client,
    sub: &str,
    auth_time: i64,
) -> Result<(), Refusal> {
    let refuse = |reason| Refusal::invalid_grant(reason, "the grant is no longer valid");
    match person::standing(cx.registry, sub, auth_time).map_err(refuse)? {
        Some(user) if !user.admitted_by(&client.allowed_groups) => {
            Err(refuse(Reason::PersonNotAdmitted))
        }
        _ => Ok(()),
    }
}

/// The scopes and audiences of a person's token: of `scope`, what the
/// client may still have; identity scopes as they are; API scopes
/// narrowed to `resources` (RFC 8707) when the sign-in named some, else
/// the audiences are every resource of a granted API scope.
pub(crate) fn scopes(
    cx: &Context<'_>,
    client: &Arc<Client>,
    scope: &str,
    resources: &[String],
) -> Result<(ScopeSet, Vec<String>), Refusal> {
    let registry = cx.registry;
    let asked: ScopeSet = scope
        .parse()
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, format!("{e}")))?;
    let allowed: ScopeSet = asked
        .iter()
        .filter(|s| client.allowed_scopes.contains(s))
        .cloned()
        .collect();
    let api: ScopeSet = allowed
        .iter()
        .filter(|s| registry.identity_scope(s.as_str()).is_none())
        .cloned()
        .collect();
    let (api, audiences) = if resources.is_empty() {
        let audiences = registry
            .resources()
            .iter()
            .filter(|r| r.scopes.iter().any(|s| api.contains(s)))
            .map(|r| r.name.clone())
            .collect();
        (api, audiences)
    } else {
        let targets: Vec<&str> = resources.iter().map(String::as_str).collect();
        narrowed(registry, &api, &targets, true)?
    };
    let granted = allowed
        .iter()
        .filter(|s| registry.identity_scope(s.as_str()).is_some() || api.contains(s))
        .cloned()
        .collect();
    Ok((granted, audiences))
}

/// The id token (when `openid` is granted) and the next refresh token
/// (when one is due) of a person's grant, after its access token.
pub(crate) async fn finish<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    people: PersonGrant,
    access_token: &str,
) -> Result<(Option<String>, Option<String>), Refusal> {
    let PersonGrant {
        grant,
        session,
        nonce,
        refresh,
    } = people;
    let person = grant
        .person
        .as_ref()
        .ok_or(Refusal::server_error(Reason::Internal))?;
    let id_token = if grant.scopes.iter().any(|s| s.as_str() == OPENID) {
        let user = person::standing(cx.registry, &person.sub, person.auth_time)
            .ok()
            .flatten();
        let claims = person_claims(cx.registry, user, session.claims.as_ref(), &grant.scopes);
        let token = IdToken {
            issuer: cx.issuer,
            client_id: grant.client.id.as_str(),
            person,
            now: cx.now.unix_timestamp(),
            nonce: nonce.as_deref(),
            access_token,
            sid: session.sid.as_deref(),
        };
        let signed = ports
            .sign(id_token::claims(&token, claims), TokenKind::Id, cx.now)
            .await
            .map_err(Refusal::not_signed)?;
        Some(signed)
    } else {
        None
    };
    let refresh_token = match (refresh, cx.sealing) {
        (true, Some(key)) => Some(key.seal(Purpose::RefreshToken, &session)),
        _ => None,
    };
    Ok((id_token, refresh_token))
}

/// A person's grant of `scopes` and `audiences` to `client`. A
/// provider's person (`upstream`: her claims as copied at sign-in) has
/// the granted identity scopes' claims in her access token too: no file
/// holds her, so it is where userinfo reads them.
pub(crate) fn person_grant(
    registry: &super::super::registry::Registry,
    client: Arc<Client>,
    scopes: ScopeSet,
    audiences: Vec<String>,
    person: Person,
    upstream: Option<&Map<String, Value>>,
) -> Grant {
    let copied = match upstream {
        Some(claims) => person_claims(registry, None, Some(claims), &scopes),
        None => Map::new(),
    };
    Grant {
        client,
        scopes,
        audiences,
        delegation: None,
        copied,
        person: Some(person),
    }
}
