//! Certificate-bound tokens (RFC 8705 §3): a token whose `cnf` holds
//! `x5t#S256` is valid only on a connection that presented that very
//! certificate. The connection's certificate comes from where TLS ends
//! (the server's accept loop, or a proxy's header the API trusts) as a
//! [`ClientCertificate`] in the request's extensions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::rejection::Rejection;

/// A token's claims (the validator's `Claims`, named here without it:
/// the validator calls this file, not the other way).
type Claims = serde_json::Map<String, serde_json::Value>;

/// The DER of the client certificate the request's TLS connection
/// presented. Insert it into each request's extensions where the
/// connection is accepted (with tokio-rustls:
/// `tls.get_ref().1.peer_certificates()`, the first one); the poem
/// middleware and the tower layer read it from there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate(pub Vec<u8>);

impl ClientCertificate {
    /// RFC 8705 §3.1: base64url SHA-256 of the DER.
    pub fn thumbprint(&self) -> String {
        B64.encode(tollgate_jose::digest::sha256(&self.0))
    }
}

/// The member of `cnf` that binds a token to a certificate.
pub(crate) const X5T_S256: &str = "x5t#S256";

/// Refuses a certificate-bound token without that certificate; a token
/// bound to none passes.
pub(crate) fn binding_holds(
    claims: &Claims,
    certificate: Option<&ClientCertificate>,
) -> Result<(), Rejection> {
    let Some(bound) = claims.get("cnf").and_then(|c| c.get(X5T_S256)) else {
        return Ok(());
    };
    let presented = certificate.map(ClientCertificate::thumbprint);
    match (bound.as_str(), presented) {
        (Some(bound), Some(presented)) if bound == presented => Ok(()),
        (_, None) => Err(Rejection::InvalidToken(
            "the token is bound to a client certificate, and this connection presented none".into(),
        )),
        _ => Err(Rejection::InvalidToken(
            "the token is bound to another client certificate than this connection's".into(),
        )),
    }
}
