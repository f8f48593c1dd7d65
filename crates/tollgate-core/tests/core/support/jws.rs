//! Signing keys made in the test (P-256) and compact JWSs signed with
//! them, with whatever header and claims a case needs (an odd `alg`, a
//! `crit`, no `kid`).

use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tollgate_jose::jose::{self, PublicKeys};

/// A P-256 key pair: what signs, and its public JWK.
pub(crate) struct Key {
    pub(crate) signer: EncodingKey,
    /// The public JWK, with `kid` when the key has one.
    pub(crate) jwk: Value,
}

impl Key {
    pub(crate) fn new(kid: Option<&str>) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        // The uncompressed point: 0x04, then x and y.
        let point = pair.public_key().as_ref();
        let mut jwk = json!({"kty": "EC", "crv": "P-256",
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])});
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        Self {
            signer: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// This key's `kid`.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.jwk.get("kid").and_then(Value::as_str)
    }

    /// A JWS of `claims`, ES256, with this key's `kid` (if any).
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let mut header = json!({"alg": "ES256"});
        if let Some(kid) = self.kid() {
            header["kid"] = json!(kid);
        }
        self.sign_with(&header, claims)
    }

    /// A JWS of `claims` under exactly `header` (ES256 signature).
    pub(crate) fn sign_with(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", part(header), part(claims));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.signer, Algorithm::ES256).unwrap();
        format!("{input}.{signature}")
    }
}

/// The public keys of `keys`, as a key set.
pub(crate) fn set(keys: &[&Key]) -> Arc<PublicKeys> {
    jwks(&keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>())
}

/// A key set of these public JWKs.
pub(crate) fn jwks(keys: &[Value]) -> Arc<PublicKeys> {
    Arc::new(jose::parse_jwk_set(&json!({ "keys": keys })).unwrap())
}

/// A compact JWS with this header and claims and a signature of nothing
/// (for algorithms no key of ours makes).
pub(crate) fn unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.{}.c2lnbmF0dXJl", part(header), part(claims))
}

fn part(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap())
}
