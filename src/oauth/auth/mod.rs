//! Client authentication: an open set of methods. Each method is a file
//! here that recognizes its credentials in a request, verifies them and
//! names its refusal reasons; the endpoints never see which one ran.
//!
//! Adding a method: a file, a variant of [`Credential`], and a line in
//! [`extract`] and in [`Credential::authenticate`].

pub mod secret;

use std::sync::Arc;

use super::client::Client;
use super::error::Challenge;
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal};

/// How a client authenticated, as discovery names the methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    /// The methods discovery advertises, in its order.
    pub const ALL: [AuthMethod; 2] = [Self::ClientSecretBasic, Self::ClientSecretPost];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// The credentials a request carries, of exactly one method.
#[derive(Debug)]
pub enum Credential {
    Secret(secret::Presented),
}

/// A client whose credentials checked out.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub client: Arc<Client>,
    pub method: AuthMethod,
}

/// Finds the one method the request used (RFC 6749 §2.3: a client "MUST
/// NOT use more than one authentication method in each request").
pub fn extract(params: &Params, authorization: Option<&[u8]>) -> Result<Credential, Refusal> {
    let found = [secret::extract(params, authorization).map(|r| r.map(Credential::Secret))];
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
                Ok(Authenticated { client, method })
            }
        }
    }
}
