//! Client authentication: an open set of methods. Each method is a file
//! here that recognizes its credentials in a request, verifies them and
//! names its refusal reasons; the endpoints never see which one ran.
//!
//! Adding a method: a file, a variant of [`Credential`], and a line in
//! [`extract`] and in [`Credential::authenticate`].

pub mod assertion;
pub(crate) mod federated;
mod private_key_jwt;
pub mod secret;

use std::sync::Arc;

use super::client::Client;
use super::error::{Challenge, OAuthError};
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal};

/// When a client over its replay quota may try again: its oldest ids
/// expire within an assertion's lifetime; a minute is a fair wait.
pub(crate) const QUOTA_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// How a client authenticated, as discovery names the methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// A platform's token: a client assertion too, so discovery lists it
    /// as `private_key_jwt`; the audit trail tells it apart.
    Federated,
}

impl AuthMethod {
    /// The methods discovery advertises, in its order.
    pub const ALL: [AuthMethod; 3] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::Federated => "federated",
        }
    }
}

/// The credentials a request carries, of exactly one method.
#[derive(Debug)]
pub enum Credential {
    Secret(secret::Presented),
    /// Boxed: a parsed JWT header is large.
    Assertion(Box<assertion::Presented>),
}

/// A client whose credentials checked out.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub client: Arc<Client>,
    pub method: AuthMethod,
    /// Claims its platform token's rule copies into the access token
    /// (`copy_claims`); empty for every other method.
    pub copied: serde_json::Map<String, serde_json::Value>,
}

/// Finds the one method the request used (RFC 6749 §2.3: a client "MUST
/// NOT use more than one authentication method in each request").
pub fn extract(params: &Params, authorization: Option<&[u8]>) -> Result<Credential, Refusal> {
    let found = [
        secret::extract(params, authorization).map(|r| r.map(Credential::Secret)),
        assertion::extract(params).map(|r| r.map(|a| Credential::Assertion(Box::new(a)))),
    ];
    let mut found = found.into_iter().flatten();
    match (found.next(), found.next()) {
        (Some(one), None) => one,
        (Some(_), Some(_)) => Err(Refusal::invalid_request(
            Reason::SeveralAuthMethods,
            "the request uses more than one client authentication method",
        )),
        // No authentication, or a public client (tollgate has none).
        (None, _) => Err(Refusal::client(Reason::NoCredentials, Challenge::None)),
    }
}

impl Credential {
    /// The client id the credentials claim, for the audit trail of a
    /// refusal.
    pub fn claimed_id(&self) -> Option<&str> {
        match self {
            Self::Secret(s) => Some(&s.id),
            Self::Assertion(a) => a.claimed_id(),
        }
    }

    pub async fn authenticate<P: Ports>(
        self,
        cx: &Context<'_>,
        ports: &P,
    ) -> Result<Authenticated, Refusal> {
        match self {
            Self::Secret(presented) => {
                let method = match presented.method {
                    secret::SecretMethod::Basic => AuthMethod::ClientSecretBasic,
                    secret::SecretMethod::Post => AuthMethod::ClientSecretPost,
                };
                let client = secret::verify::<Client, P>(presented, cx, ports).await?;
                Ok(Authenticated {
                    client,
                    method,
                    copied: serde_json::Map::new(),
                })
            }
            Self::Assertion(presented) => {
                let trusted = presented
                    .iss()
                    .and_then(|iss| cx.registry.trusted_issuer(iss));
                let (client, method) = match trusted {
                    Some(issuer) => (
                        federated::authenticate(&presented, issuer, cx, ports).await,
                        AuthMethod::Federated,
                    ),
                    None => (
                        private_key_jwt::authenticate(&presented, cx, ports)
                            .await
                            .map(|client| (client, serde_json::Map::new())),
                        AuthMethod::PrivateKeyJwt,
                    ),
                };
                match client {
                    Ok((client, copied)) => Ok(Authenticated {
                        client,
                        method,
                        copied,
                    }),
                    Err(Reason::ReplayStoreUnavailable) => Err(Refusal::new(
                        OAuthError::unavailable(std::time::Duration::from_secs(1)),
                        Reason::ReplayStoreUnavailable,
                    )),
                    Err(Reason::ReplayQuotaExceeded) => Err(Refusal::new(
                        OAuthError::unavailable(QUOTA_RETRY),
                        Reason::ReplayQuotaExceeded,
                    )),
                    Err(reason) => Err(Refusal::client(reason, Challenge::None)),
                }
            }
        }
    }
}
