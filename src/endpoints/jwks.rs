//! `GET /.well-known/jwks.json`: the public signing keys.

use std::sync::Arc;

use poem_openapi::{ApiResponse, Object, OpenApi};

use super::payload::RawJson;
use super::{ApiTags, AppState, public_metadata};

/// A JSON Web Key (RFC 7517) for ES256.
#[derive(Object)]
#[oai(rename = "Jwk")]
pub struct JwkDoc {
    /// `EC`
    kty: String,
    /// `P-256`
    crv: String,
    /// base64url x coordinate.
    x: String,
    /// base64url y coordinate.
    y: String,
    /// RFC 7638 thumbprint of the key; the `kid` of tokens it signed.
    kid: String,
    /// `ES256`
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
    Ok(RawJson<JwksDoc>),
}

pub struct JwksApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl JwksApi {
    /// JSON Web Key Set
    ///
    /// The public keys that verify access tokens: published, active and
    /// retiring ones. Never contains private key material.
    #[oai(
        path = "/.well-known/jwks.json",
        method = "get",
        tag = "ApiTags::Discovery",
        transform = "public_metadata"
    )]
    async fn jwks(&self) -> JwksResponse {
        JwksResponse::Ok(RawJson::new(bytes::Bytes::copy_from_slice(
            self.state.keys.jwks_json(),
        )))
    }
}
