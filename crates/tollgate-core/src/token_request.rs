//! The token request (RFC 6749 §4.4.2) as one operation: parse, then
//! authenticate the client, then decide the grant, then make the claims
//! and have them signed. Checks run in that order, so an unauthenticated
//! caller learns nothing past "authentication failed" (an unknown
//! `grant_type`, say, is judged only after it).

use std::sync::Arc;

use super::access_token::{self, TokenType};
use super::auth::{self, AuthMethod, Credential, assertion};
use super::client::{Client, GrantType, JWT_BEARER_GRANT};
use super::error::{ErrorCode, OAuthError};
use super::grant::{self, Delegation};
use super::grants::{authorization_code, client_credentials, exchange, refresh_token, signed_in};
use super::params::Params;
use super::person::Person;
use super::ports::{Context, Ports, TokenKind};
use super::refusal::{Reason, Refusal, RefusedRequest};
use super::standing::OwnTokens;
use tollgate_jose::dpop;
use tollgate_jose::replay::ReplayError;

/// The parameters a token request may carry; others are ignored.
const PARAMETERS: [&str; 16] = [
    "grant_type",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    // RFC 7523 §2.1.
    "assertion",
    // RFC 8693 §2.1.
    "subject_token",
    "subject_token_type",
    "requested_token_type",
    "actor_token",
    "actor_token_type",
    // RFC 6749 §4.1.3, RFC 7636 §4.5.
    "code",
    "redirect_uri",
    "code_verifier",
    // RFC 6749 §6.
    "refresh_token",
];

/// The parameters that may repeat: RFC 8707's and RFC 8693's targets.
const REPEATED: [&str; 2] = ["resource", "audience"];

/// An issued access token and what the response says about it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
    pub jti: String,
    pub client: Arc<Client>,
    pub method: AuthMethod,
    pub token_type: TokenType,
    /// The APIs it is for (`aud`; empty: any API of this issuer).
    pub audiences: Vec<String>,
    /// A token exchange's subject and actors.
    pub delegation: Option<Delegation>,
    /// The person it is for (code and refresh token grants).
    pub person: Option<Person>,
    /// OpenID Connect: when `openid` was granted to a person.
    pub id_token: Option<String>,
    /// When `offline_access` was granted, and at each refresh.
    pub refresh_token: Option<String>,
}

/// What the HTTP adapter hands over: the form body and the headers that
/// matter.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub body: &'a [u8],
    pub authorization: Option<&'a [u8]>,
    /// Every `DPoP` header the request carried (RFC 9449 allows one).
    pub dpop: &'a [&'a [u8]],
    /// The client certificate of the connection (RFC 8705), if any.
    pub certificate: Option<&'a crate::trust::CertificateChain>,
}

/// A token request read, not yet judged: what it asks for and the
/// credentials of the one authentication method it uses.
#[derive(Debug)]
pub struct Parsed {
    /// As sent: an unknown grant type is judged after authentication.
    pub grant_type: String,
    pub params: Params,
    pub credential: Credential,
    /// The credential is a platform's assertion presented as the grant
    /// (RFC 7523 §2.1): its failures are the grant's (`invalid_grant`).
    pub assertion_grant: bool,
}

/// Reads a token request: parameters, then credentials.
pub fn parse(request: Request<'_>) -> Result<Parsed, Refusal> {
    let mut params = Params::parse(request.body, &PARAMETERS, &REPEATED)?;
    let grant_type = params.take("grant_type").ok_or_else(|| {
        Refusal::invalid_request(Reason::MissingParameter, "grant_type is missing")
    })?;
    let assertion_grant = grant_type == JWT_BEARER_GRANT;
    let credential = if assertion_grant {
        assertion::extract_grant(&params, request.authorization)
            .map(|a| Credential::Assertion(Box::new(a)))?
    } else {
        auth::extract(&params, request.authorization, request.certificate)?
    };
    Ok(Parsed {
        grant_type,
        params,
        credential,
        assertion_grant,
    })
}

/// Runs a token request.
pub async fn token<P: Ports + OwnTokens>(
    cx: &Context<'_>,
    ports: &P,
    request: Request<'_>,
) -> Result<Issued, RefusedRequest> {
    let Parsed {
        grant_type,
        params,
        credential,
        assertion_grant,
    } = parse(request)?;
    let claimed = |refusal: Refusal, id: Option<&str>| RefusedRequest {
        refusal,
        claimed_id: id.map(str::to_owned),
    };
    let claimed_id = credential.claimed_id().map(str::to_owned);
    let mut authenticated = match credential.authenticate(cx, ports).await {
        Ok(a) => a,
        Err(refusal) if assertion_grant && refusal.error.code == ErrorCode::InvalidClient => {
            let refusal = Refusal::invalid_grant(
                refusal.reason,
                "the assertion does not prove a registered client",
            );
            return Err(claimed(refusal, claimed_id.as_deref()));
        }
        Err(refusal) => return Err(claimed(refusal, claimed_id.as_deref())),
    };
    let id = Some(authenticated.client.id.as_str());
    let proof = bound_key(cx, ports, &authenticated.client, request.dpop)
        .await
        .map_err(|r| claimed(r, id))?;
    let client = authenticated.client.clone();
    // RFC 7523 §2.1's grant is client_credentials presented differently.
    let kind = if assertion_grant {
        GrantType::ClientCredentials.as_str()
    } else {
        &grant_type
    };
    let jkt = proof.as_ref().map(|p| p.jkt.as_str());
    let mut people = None;
    let grant = match grant::allowed(&client, kind).map_err(|e| claimed(e.into(), id))? {
        GrantType::ClientCredentials => {
            let resources: Vec<&str> = params.all("resource").collect();
            let mut grant =
                client_credentials::grant(cx.registry, client, params.get("scope"), &resources)
                    .map_err(|e| claimed(e, id))?;
            grant.copied = std::mem::take(&mut authenticated.copied);
            grant
        }
        kind @ (GrantType::AuthorizationCode | GrantType::RefreshToken) => {
            let person = if kind == GrantType::AuthorizationCode {
                authorization_code::grant(cx, ports, client, &params, jkt).await
            } else {
                refresh_token::grant(cx, ports, client, &params, jkt).await
            }
            .map_err(|r| claimed(r, id))?;
            let grant = person.grant.clone();
            people = Some(person);
            grant
        }
        GrantType::TokenExchange => {
            let targets: Vec<&str> = params
                .all("resource")
                .chain(params.all("audience"))
                .collect();
            exchange::grant(cx, ports, client, &params, &targets)
                .await
                .map_err(|r| claimed(r, id))?
        }
    };
    let binding = access_token::Binding {
        jkt: proof.as_ref().map(|p| p.jkt.as_str()),
        x5t_s256: authenticated.certificate.as_deref(),
    };
    let unsigned = access_token::claims(&grant, cx.issuer, cx.now.unix_timestamp(), binding)
        .map_err(|_| claimed(Refusal::server_error(Reason::Internal), id))?;
    let access_token = ports
        .sign(unsigned.claims_json, TokenKind::Access, cx.now)
        .await
        .map_err(|e| claimed(Refusal::not_signed(e), id))?;
    let (id_token, refresh_token) = match people {
        Some(people) => signed_in::finish(cx, ports, people, &access_token)
            .await
            .map_err(|r| claimed(r, id))?,
        None => (None, None),
    };
    Ok(Issued {
        access_token,
        expires_in: unsigned.expires_in,
        scope: unsigned.scope,
        jti: unsigned.jti,
        client: authenticated.client,
        method: authenticated.method,
        token_type: match proof {
            Some(_) => TokenType::DPoP,
            None => TokenType::Bearer,
        },
        audiences: grant.audiences,
        delegation: grant.delegation,
        person: grant.person,
        id_token,
        refresh_token,
    })
}

/// The DPoP proof of the request, checked and used up; `None` without one
/// (refused if the client requires DPoP).
async fn bound_key<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    client: &Client,
    headers: &[&[u8]],
) -> Result<Option<dpop::Proof>, Refusal> {
    let invalid = |reason, why: &'static str| {
        Refusal::new(OAuthError::new(ErrorCode::InvalidDpopProof, why), reason)
    };
    let proof = match headers {
        [] if client.require_dpop => {
            return Err(Refusal::invalid_request(
                Reason::DpopRequired,
                "this client must send a DPoP proof (RFC 9449)",
            ));
        }
        [] => return Ok(None),
        [one] => std::str::from_utf8(one)
            .map_err(|_| invalid(Reason::InvalidDpopProof, "the DPoP header is not text"))?,
        _ => {
            return Err(invalid(
                Reason::InvalidDpopProof,
                "send one DPoP header, not several",
            ));
        }
    };
    let checked = dpop::verify(proof, "POST", cx.token_endpoint, cx.now.unix_timestamp())
        .map_err(|why| invalid(Reason::InvalidDpopProof, why))?;
    let key = tollgate_jose::digest::sha256_parts([
        b"dpop".as_slice(),
        checked.jkt.as_bytes(),
        checked.jti.as_bytes(),
    ]);
    let until = time::OffsetDateTime::from_unix_timestamp(checked.iat + dpop::WINDOW + 30)
        .map_err(|_| {
            invalid(
                Reason::InvalidDpopProof,
                "the DPoP proof's iat is out of range",
            )
        })?;
    match ports
        .first_use(key, client.id.as_str(), until, cx.now)
        .await
    {
        Ok(true) => Ok(Some(checked)),
        Ok(false) => Err(invalid(
            Reason::DpopReplayed,
            "the DPoP proof was used before",
        )),
        Err(ReplayError::OverQuota) => Err(Refusal::new(
            OAuthError::unavailable(crate::auth::QUOTA_RETRY),
            Reason::ReplayQuotaExceeded,
        )),
        Err(ReplayError::Unavailable) => Err(Refusal::new(
            OAuthError::unavailable(std::time::Duration::from_secs(1)),
            Reason::ReplayStoreUnavailable,
        )),
    }
}
