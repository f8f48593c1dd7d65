//! Signing keys: load or generate, the RFC 7638 `kid`, the JWKS, signing.
//!
//! p256 reads and writes the key material (PKCS#8 PEM, curve checks);
//! aws-lc-rs signs, because it does so about three times faster than the
//! pure-Rust implementation and signing is the floor of token throughput.
//! The key is parsed once at load, never per token.

mod store;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use store::{KeyStoreError, load_or_generate};

/// A public key as published in the JWKS (RFC 7517, RFC 7518 §6.2).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub y: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// Why key material was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PKCS#8 PEM P-256 private key ({0})")]
    Format(String),
    #[error("the key could not be used for signing ({0})")]
    Unusable(String),
}

/// A private ES256 key ready to sign, with its public JWK.
pub struct SigningKey {
    key_pair: EcdsaKeyPair,
    rng: SystemRandom,
    jwk: Jwk,
    /// `base64url({"alg":"ES256","kid":...,"typ":"at+jwt"})`, encoded once.
    header_b64: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Makes a new random P-256 key; returns it with its PKCS#8 PEM.
    pub fn generate() -> Result<(Self, String), KeyError> {
        use p256::elliptic_curve::Generate;
        let secret = p256::SecretKey::generate();
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Format(e.to_string()))?;
        let key = Self::from_pkcs8_pem(&pem)?;
        Ok((key, pem.to_string()))
    }

    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let secret =
            p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Format(e.to_string()))?;
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| KeyError::Format(e.to_string()))?;
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_bytes())
            .map_err(|e| KeyError::Unusable(e.to_string()))?;
        let point = key_pair.public_key().as_ref();
        // An uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        if point.len() != 65 || point[0] != 4 {
            return Err(KeyError::Unusable("unexpected public key encoding".into()));
        }
        let x = B64.encode(&point[1..33]);
        let y = B64.encode(&point[33..]);
        let kid = thumbprint(&x, &y);
        let header = format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"at+jwt"}}"#);
        Ok(Self {
            key_pair,
            rng: SystemRandom::new(),
            header_b64: B64.encode(header),
            jwk: Jwk {
                kty: "EC",
                crv: "P-256",
                x,
                y,
                kid,
                alg: "ES256",
                use_: "sig",
            },
        })
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `claims` (already JSON) as a compact JWS with header
    /// `{"alg":"ES256","kid":...,"typ":"at+jwt"}`.
    pub fn sign_jwt(&self, claims_json: &[u8]) -> Result<String, KeyError> {
        let payload_len = claims_json.len().div_ceil(3) * 4;
        let mut jwt = String::with_capacity(self.header_b64.len() + payload_len + 90);
        jwt.push_str(&self.header_b64);
        jwt.push('.');
        B64.encode_string(claims_json, &mut jwt);
        let signature = self
            .key_pair
            .sign(&self.rng, jwt.as_bytes())
            .map_err(|e| KeyError::Unusable(e.to_string()))?;
        jwt.push('.');
        B64.encode_string(signature.as_ref(), &mut jwt);
        Ok(jwt)
    }
}

/// RFC 7638 JWK thumbprint of an EC key: SHA-256 over the required members
/// in lexicographic order, without whitespace, base64url.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// The keys the server signs with and publishes.
#[derive(Debug)]
pub struct KeySet {
    active: SigningKey,
    jwks_json: Vec<u8>,
}

impl KeySet {
    pub fn new(active: SigningKey) -> Self {
        let jwks_json = serde_json::to_vec(&serde_json::json!({ "keys": [active.jwk()] }))
            .expect("a JWK serializes");
        Self { active, jwks_json }
    }

    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    pub fn published(&self) -> impl Iterator<Item = &Jwk> {
        std::iter::once(self.active.jwk())
    }

    /// The JWKS document, serialized once.
    pub fn jwks_json(&self) -> &[u8] {
        &self.jwks_json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7638_thumbprint_example_shape() {
        // The thumbprint is over exactly crv, kty, x, y in that order.
        let t = thumbprint("a", "b");
        let expected = B64.encode(Sha256::digest(
            br#"{"crv":"P-256","kty":"EC","x":"a","y":"b"}"#,
        ));
        assert_eq!(t, expected);
        assert_eq!(t.len(), 43);
    }

    #[test]
    fn a_generated_key_round_trips_through_pem_with_the_same_kid() {
        let (key, pem) = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(key.kid(), again.kid());
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn signatures_verify_with_the_published_public_key() {
        let (key, _) = SigningKey::generate().unwrap();
        let jwt = key.sign_jwt(br#"{"sub":"x"}"#).unwrap();
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let jwk = key.jwk();
        let mut point = vec![4u8];
        point.extend(B64.decode(&jwk.x).unwrap());
        point.extend(B64.decode(&jwk.y).unwrap());
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            point,
        );
        public
            .verify(signed.as_bytes(), &B64.decode(sig).unwrap())
            .unwrap();
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(
            SigningKey::from_pkcs8_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
            )
            .is_err()
        );
    }
}
