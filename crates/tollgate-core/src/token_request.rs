//! The token request (RFC 6749 §4.4.2) as one operation: parse, then
//! authenticate the client, then decide the grant, then make the claims
//! and have them signed. Checks run in that order, so an unauthenticated
//! caller learns nothing past "authentication failed" (an unknown
//! `grant_type`, say, is judged only after it).

use std::sync::Arc;

use super::access_token;
use super::auth::{self, AuthMethod, Credential};
use super::client::Client;
use super::error::{ErrorCode, OAuthError};
use super::grant;
use super::params::Params;
use super::ports::{Context, PortError, Ports};
use super::refusal::{Reason, Refusal};
use tollgate_jose::dpop;
use tollgate_jose::replay::ReplayError;

/// The parameters a token request may carry; others are ignored.
const PARAMETERS: [&str; 6] = [
    "grant_type",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

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
}

/// How the token is used (RFC 6750 bearer, or bound to a key by DPoP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Bearer,
    DPoP,
}

impl TokenType {
    pub const ALL: [TokenType; 2] = [Self::Bearer, Self::DPoP];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
        }
    }
}

/// A refused token request, and the client id it claimed (for the audit
/// trail), if it got as far as naming one.
#[derive(Debug, Clone)]
pub struct Refused {
    pub refusal: Refusal,
    pub claimed_id: Option<String>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Self {
            refusal,
            claimed_id: None,
        }
    }
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
    pub certificate: Option<&'a crate::trust::ClientCertificate>,
}

/// A token request read, not yet judged: what it asks for and the
/// credentials of the one authentication method it uses.
#[derive(Debug)]
pub struct Parsed {
    /// As sent: an unknown grant type is judged after authentication.
    pub grant_type: String,
    pub params: Params,
    pub credential: Credential,
}

/// Reads a token request: parameters, then credentials.
pub fn parse(request: Request<'_>) -> Result<Parsed, Refusal> {
    let mut params = Params::parse(request.body, &PARAMETERS, &["resource"])?;
    let grant_type = params.take("grant_type").ok_or_else(|| {
        Refusal::invalid_request(Reason::MissingParameter, "grant_type is missing")
    })?;
    let credential = auth::extract(&params, request.authorization, request.certificate)?;
    Ok(Parsed {
        grant_type,
        params,
        credential,
    })
}

/// Runs a token request.
pub async fn token<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    request: Request<'_>,
) -> Result<Issued, Refused> {
    let Parsed {
        grant_type,
        params,
        credential,
    } = parse(request)?;
    let claimed = |refusal: Refusal, id: Option<&str>| Refused {
        refusal,
        claimed_id: id.map(str::to_owned),
    };
    let claimed_id = credential.claimed_id().map(str::to_owned);
    let authenticated = match credential.authenticate(cx, ports).await {
        Ok(a) => a,
        Err(refusal) => return Err(claimed(refusal, claimed_id.as_deref())),
    };
    let id = Some(authenticated.client.id.as_str());
    let proof = bound_key(cx, ports, &authenticated.client, request.dpop)
        .await
        .map_err(|r| claimed(r, id))?;
    let resources: Vec<&str> = params.all("resource").collect();
    let grant = grant::client_credentials(
        cx.registry,
        authenticated.client.clone(),
        &grant_type,
        params.get("scope"),
        &resources,
    )
    .map_err(|e| claimed(e.into(), id))?;
    let binding = access_token::Binding {
        jkt: proof.as_ref().map(|p| p.jkt.as_str()),
        x5t_s256: authenticated.certificate.as_deref(),
    };
    let unsigned = access_token::claims(&grant, cx.issuer, cx.now.unix_timestamp(), binding)
        .map_err(|_| claimed(Refusal::server_error(Reason::Internal), id))?;
    let access_token = ports
        .sign(unsigned.claims_json, cx.now)
        .await
        .map_err(|e| {
            let reason = match e {
                PortError::NoActiveKey => Reason::NoActiveKey,
                PortError::Failed => Reason::SigningFailed,
            };
            claimed(Refusal::server_error(reason), id)
        })?;
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
    let url = format!("{}/connect/token", cx.issuer);
    let checked = dpop::check(proof, "POST", &url, cx.now.unix_timestamp())
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
