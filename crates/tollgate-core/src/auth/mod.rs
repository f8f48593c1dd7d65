//! Client authentication: an open set of methods. Each method is a file
//! here that recognizes its credentials in a request, verifies them and
//! names its refusal reasons; the endpoints never see which one ran.
//!
//! Adding a method: a file, a variant of [`Credential`], and a line in
//! [`extract`] and in [`Credential::authenticate`].

pub mod assertion;
pub mod certificate;
pub(crate) mod federated;
pub(crate) mod keys;
mod private_key_jwt;
pub mod public;
pub mod secret;

use std::sync::Arc;

use super::client::Client;
use super::error::{Challenge, OAuthError};
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::{Reason, Refusal};
use super::trust::CertificateChain;

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
    /// RFC 8705 §2.1: a certificate chained to a CA, its subject or SAN
    /// the client's.
    TlsClientAuth,
    /// RFC 8705 §2.2: a certificate whose key is one of the client's keys.
    SelfSignedTlsClientAuth,
    /// A public client: its `client_id` alone (OpenID Connect Core §9).
    None,
}

impl AuthMethod {
    /// The methods discovery advertises, in its order.
    pub const ALL: [AuthMethod; 6] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::TlsClientAuth,
        Self::SelfSignedTlsClientAuth,
        Self::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::Federated => "federated",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            Self::None => "none",
        }
    }
}

/// The credentials a request carries, of exactly one method.
#[derive(Debug)]
pub enum Credential {
    Secret(secret::Presented),
    /// Boxed: a parsed JWT header is large.
    Assertion(Box<assertion::Presented>),
    Certificate(certificate::Presented),
    /// A `client_id` and nothing else: a public client.
    Public(public::Presented),
}

/// A client whose credentials checked out.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub client: Arc<Client>,
    pub method: AuthMethod,
    /// Claims its platform token's rule copies into the access token
    /// (`copy_claims`); empty for every other method.
    pub copied: serde_json::Map<String, serde_json::Value>,
    /// The `x5t#S256` of the certificate it authenticated with: its
    /// tokens are bound to it (RFC 8705 §3).
    pub certificate: Option<String>,
}

/// Finds the one method the request used (RFC 6749 §2.3: a client "MUST
/// NOT use more than one authentication method in each request"). A
/// client certificate is the connection's: it is the method only of a
/// request that carries no other credentials.
pub fn extract(
    params: &Params,
    authorization: Option<&[u8]>,
    certificate: Option<&CertificateChain>,
) -> Result<Credential, Refusal> {
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
        (None, _) => match certificate::extract(params, certificate) {
            Some(presented) => Ok(Credential::Certificate(presented)),
            // A certificate without client_id: the operator's log says
            // what is missing; the client gets the one invalid_client.
            None if certificate.is_some() => Err(Refusal::client(
                Reason::CertificateWithoutClientId,
                Challenge::None,
            )),
            None => match params.get("client_id") {
                // A public client, or a confidential one that forgot its
                // credentials: `public` tells them apart, equally slowly.
                Some(id) => Ok(Credential::Public(public::Presented {
                    client_id: id.to_owned(),
                })),
                None => Err(Refusal::client(Reason::NoCredentials, Challenge::None)),
            },
        },
    }
}

impl Credential {
    /// The client id the credentials claim, for the audit trail of a
    /// refusal.
    pub fn claimed_id(&self) -> Option<&str> {
        match self {
            Self::Secret(s) => Some(&s.id),
            Self::Assertion(a) => a.claimed_id(),
            Self::Certificate(c) => Some(&c.client_id),
            Self::Public(p) => Some(&p.client_id),
        }
    }

    pub async fn authenticate<P: Ports>(
        self,
        cx: &Context<'_>,
        ports: &P,
    ) -> Result<Authenticated, Refusal> {
        match self {
            Self::Public(presented) => Ok(Authenticated {
                client: public::authenticate(&presented, cx, ports).await?,
                method: AuthMethod::None,
                copied: serde_json::Map::new(),
                certificate: None,
            }),
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
                    certificate: None,
                })
            }
            Self::Certificate(presented) => {
                match certificate::authenticate(&presented, cx, ports).await {
                    Ok((client, kind)) => Ok(Authenticated {
                        client,
                        method: match kind {
                            certificate::Kind::Pki => AuthMethod::TlsClientAuth,
                            certificate::Kind::SelfSigned => AuthMethod::SelfSignedTlsClientAuth,
                        },
                        copied: serde_json::Map::new(),
                        certificate: Some(presented.certificate.thumbprint().to_owned()),
                    }),
                    Err(reason) => Err(Refusal::client(reason, Challenge::None)),
                }
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
                        certificate: None,
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

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;

    use super::*;

    /// A certificate with nothing to say whose it is: the client gets the
    /// one `invalid_client`, the operator a reason that names what is
    /// missing.
    #[test]
    fn a_certificate_without_client_id_is_refused_for_that_reason() {
        let params = Params::parse(
            b"grant_type=client_credentials",
            &["grant_type", "client_id"],
            &[],
        )
        .unwrap();
        let certificate = CertificateChain::new(vec![CertificateDer::from(vec![0x30, 0])]);
        let reason =
            |certificate: Option<&CertificateChain>| match extract(&params, None, certificate) {
                Err(refusal) => (refusal.error.code.as_str(), refusal.reason),
                Ok(_) => panic!("authenticated without credentials"),
            };
        assert_eq!(
            reason(certificate.as_ref()),
            ("invalid_client", Reason::CertificateWithoutClientId)
        );
        assert!(
            Reason::CertificateWithoutClientId
                .hint()
                .is_some_and(|h| h.contains("client_id"))
        );
        assert_eq!(reason(None), ("invalid_client", Reason::NoCredentials));
    }
}
