//! `GET /.well-known/jwks.json`: the public signing keys, serialized once
//! per key schedule period by the key ring.

use std::sync::Arc;

use poem_openapi::{ApiResponse, Object, OpenApi};

use super::payload::RawJson;
use super::wire::JwkSchema;
use super::{ApiTags, AppState, public_metadata};

/// A JWK Set (RFC 7517 §5).
#[derive(Object)]
#[oai(rename = "Jwks")]
pub struct JwksDoc {
    keys: Vec<JwkSchema>,
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

pub(super) struct JwksApi {
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
        operation_id = "jwks",
        transform = "public_metadata"
    )]
    async fn jwks(&self) -> JwksResponse {
        let max_age = self.state.config().keys.jwks_max_age.as_secs();
        let jwks = self.state.keys().jwks_json(self.state.clock.now()).clone();
        JwksResponse::Ok(RawJson::new(jwks), format!("public, max-age={max_age}"))
    }
}
