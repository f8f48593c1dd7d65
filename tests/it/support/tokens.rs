//! Tokens as a client sees them: decoded, and verified against a JWKS.

use base64::Engine;

use super::TestServer;

/// The JWT's decoded header and payload (no verification).
pub(crate) fn jwt_parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let header = b64.decode(parts.next().unwrap()).unwrap();
    let payload = b64.decode(parts.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&payload).unwrap(),
    )
}

/// The `kid`s of `server`'s JWKS, in its order.
pub(crate) async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let jwks: serde_json::Value = server.get_json("/.well-known/jwks.json").await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The `kid` of a JWT's header.
pub(crate) fn kid_of(token: &str) -> String {
    jwt_parts(token).0["kid"].as_str().unwrap().to_owned()
}

/// Verifies `token`'s signature against `server`'s JWKS *now*, with the
/// key's own algorithm (the audience is not checked).
pub(crate) async fn verify_against(
    server: &TestServer,
    token: &str,
) -> Result<serde_json::Value, String> {
    verify_at(&server.http, &server.url(""), token).await
}

/// [`verify_against`] for the server at `base` (`http://host:port`).
pub(crate) async fn verify_at(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<serde_json::Value, String> {
    let jwks: jsonwebtoken::jwk::JwkSet = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let kid = kid_of(token);
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let alg = match jwk.common.key_algorithm {
        Some(jsonwebtoken::jwk::KeyAlgorithm::ES256) => jsonwebtoken::Algorithm::ES256,
        Some(jsonwebtoken::jwk::KeyAlgorithm::EdDSA) => jsonwebtoken::Algorithm::EdDSA,
        Some(jsonwebtoken::jwk::KeyAlgorithm::RS256) => jsonwebtoken::Algorithm::RS256,
        other => return Err(format!("unexpected JWK alg {other:?}")),
    };
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}
