//! `GET /.well-known/jwks.json`: the public signing keys.

use std::sync::Arc;

use poem_openapi::{ApiResponse, Object, OpenApi};

use super::payload::RawJson;
use super::{ApiTags, AppState, public_metadata};

/// A JSON Web Key (RFC 7517): EC P-256 (ES256), OKP Ed25519 (EdDSA) or RSA
/// (RS256); only the members of its `kty` are present.
#[derive(Object)]
#[oai(rename = "Jwk")]
pub struct JwkDoc {
    /// `EC`, `OKP` or `RSA`
    kty: String,
    /// `P-256` (EC) or `Ed25519` (OKP)
    crv: Option<String>,
    /// base64url x coordinate (EC) or public key (OKP).
    x: Option<String>,
    /// base64url y coordinate (EC).
    y: Option<String>,
    /// base64url modulus (RSA).
    n: Option<String>,
    /// base64url public exponent (RSA).
    e: Option<String>,
    /// RFC 7638 thumbprint of the key; the `kid` of tokens it signed.
    kid: String,
    /// `ES256`, `EdDSA` or `RS256`
    alg: String,
    /// `sig`
    #[oai(rename = "use")]
    use_: String,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Object)]
#[oai(rename = "Jwks")]
pub struct JwksDoc {
    keys: Vec<JwkDoc>,
}

#[derive(ApiResponse)]
pub enum JwksResponse {
    /// The key set.
    #[oai(status = 200)]
    Ok(
        RawJson<JwksDoc>,
        /// `public, max-age=` the configured `keys.jwks_max_age`.
        #[oai(header = "cache-control")]
        String,
    ),
}

pub struct JwksApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl JwksApi {
    /// JSON Web Key Set
    ///
    /// The public keys that verify access tokens: announced, active and
    /// retained ones, newest first. Never contains private key material.
    #[oai(
        path = "/.well-known/jwks.json",
        method = "get",
        tag = "ApiTags::Discovery",
        transform = "public_metadata"
    )]
    async fn jwks(&self) -> JwksResponse {
        let max_age = self.state.config().keys.jwks_max_age.as_secs();
        let jwks = self.state.keys().jwks_json((self.state.clock)()).clone();
        JwksResponse::Ok(RawJson::new(jwks), format!("public, max-age={max_age}"))
    }
}
