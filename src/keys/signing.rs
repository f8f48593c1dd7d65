//! One private signing key: parsed once (or found in a PKCS#11 token), its
//! public JWK and RFC 7638 `kid`, the JWT header pre-encoded, and compact
//! JWS signing: in software, or through the token's module.
//!
//! p256 reads and writes ES256 key material (PKCS#8 PEM, curve checks);
//! aws-lc-rs signs with every algorithm, because it is about three times
//! faster than the pure-Rust implementations and signing is the floor of
//! token throughput.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::Serialize;

use super::KeyError;
use super::pkcs11::HsmKey;

/// A JWS algorithm tollgate signs access tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256: small, fast, the default.
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys when generated.
    RS256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Self::ES256, Self::EdDSA, Self::RS256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
            Self::RS256 => "RS256",
        }
    }

    /// Lower case, for file names.
    pub fn file_tag(self) -> &'static str {
        match self {
            Self::ES256 => "es256",
            Self::EdDSA => "eddsa",
            Self::RS256 => "rs256",
        }
    }

    pub fn from_file_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.file_tag() == tag)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("{s:?} is not one of ES256, EdDSA, RS256"))
    }
}

/// A public key as published in the JWKS (RFC 7517; EC and RSA members from
/// RFC 7518 §6, OKP from RFC 8037). Only the members of its type are set.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

impl Jwk {
    /// The members RFC 7638 hashes, in lexicographic order, no whitespace.
    fn thumbprint_input(&self) -> String {
        match self.kty {
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                self.crv.unwrap_or_default(),
                self.x.as_deref().unwrap_or_default(),
                self.y.as_deref().unwrap_or_default()
            ),
            "OKP" => format!(
                r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
                self.crv.unwrap_or_default(),
                self.x.as_deref().unwrap_or_default()
            ),
            _ => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                self.e.as_deref().unwrap_or_default(),
                self.n.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// What makes the signature: a key in memory, or a key in hardware that
/// never leaves its token.
enum Signer {
    Ecdsa(EcdsaKeyPair, SystemRandom),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair, SystemRandom),
    Hardware(Box<HsmKey>),
}

/// A private key ready to sign, with its public JWK.
pub struct SigningKey {
    signer: Signer,
    jwk: Jwk,
    /// `base64url({"alg":...,"kid":...,"typ":"at+jwt"})`, encoded once.
    header_b64: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.jwk.alg)
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

fn pem_encode(der: &[u8]) -> Result<String, KeyError> {
    p256::pkcs8::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, der)
        .map_err(|e| KeyError::Format(e.to_string()))
}

impl SigningKey {
    /// Makes a new random key; returns it with its PKCS#8 PEM.
    pub fn generate(alg: Algorithm) -> Result<(Self, String), KeyError> {
        let unusable = |e: aws_lc_rs::error::Unspecified| KeyError::Unusable(e.to_string());
        let pem = match alg {
            Algorithm::ES256 => {
                use p256::elliptic_curve::Generate;
                p256::SecretKey::generate()
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| KeyError::Format(e.to_string()))?
                    .to_string()
            }
            // PKCS#8 v1, the form `openssl genpkey -algorithm ed25519` writes.
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().map_err(unusable)?;
                let der: Pkcs8V1Der = pair.as_der().map_err(unusable)?;
                pem_encode(der.as_ref())?
            }
            Algorithm::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(unusable)?;
                let der: Pkcs8V1Der = pair.as_der().map_err(unusable)?;
                pem_encode(der.as_ref())?
            }
        };
        let key = Self::from_pkcs8_pem(&pem)?;
        Ok((key, pem))
    }

    /// Reads a PKCS#8 PEM private key of any supported algorithm; the
    /// algorithm follows from the key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;
        let key = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| {
            KeyError::Format(format!(
                "not a PEM file ({e}); expected -----BEGIN PRIVATE KEY-----"
            ))
        })?;
        let der = match &key {
            PrivateKeyDer::Pkcs8(der) => der.secret_pkcs8_der(),
            other => {
                let kind = match other {
                    PrivateKeyDer::Pkcs1(_) => "an RSA PRIVATE KEY (PKCS#1)",
                    _ => "an EC PRIVATE KEY (SEC1)",
                };
                return Err(KeyError::Format(format!(
                    "{kind} PEM block; expected an unencrypted PKCS#8 \"PRIVATE KEY\" \
                     (convert with `openssl pkcs8 -topk8 -nocrypt`)"
                )));
            }
        };
        if let Ok(secret) = p256::SecretKey::from_pkcs8_der(der) {
            return Self::ecdsa(&secret);
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Self::ed25519(pair);
        }
        match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => Self::rsa(pair),
            Err(e) => Err(KeyError::Format(format!(
                "not a P-256, Ed25519 or RSA (2048 to 4096 bits) private key ({e})"
            ))),
        }
    }

    fn ecdsa(secret: &p256::SecretKey) -> Result<Self, KeyError> {
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| KeyError::Format(e.to_string()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_bytes())
            .map_err(|e| KeyError::Unusable(e.to_string()))?;
        let point = pair.public_key().as_ref();
        // An uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        if point.len() != 65 || point[0] != 4 {
            return Err(KeyError::Unusable("unexpected public key encoding".into()));
        }
        let jwk = ec_jwk(point);
        Ok(Self::finish(Signer::Ecdsa(pair, SystemRandom::new()), jwk))
    }

    fn ed25519(pair: Ed25519KeyPair) -> Result<Self, KeyError> {
        let jwk = Jwk {
            kty: "OKP",
            crv: Some("Ed25519"),
            x: Some(B64.encode(pair.public_key().as_ref())),
            y: None,
            n: None,
            e: None,
            kid: String::new(),
            alg: "EdDSA",
            use_: "sig",
        };
        Ok(Self::finish(Signer::Ed25519(pair), jwk))
    }

    fn rsa(pair: RsaKeyPair) -> Result<Self, KeyError> {
        let public = pair.public_key();
        // Verifiers (ours included) refuse larger keys: see the JOSE policy.
        let bits = public.modulus().big_endian_without_leading_zero().len() * 8;
        if bits > tollgate_jose::jose::MAX_RSA_BITS {
            return Err(KeyError::Unusable(format!(
                "RSA signing keys may have at most {} bits (this one: {bits})",
                tollgate_jose::jose::MAX_RSA_BITS
            )));
        }
        let jwk = rsa_jwk(
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
        );
        Ok(Self::finish(Signer::Rsa(pair, SystemRandom::new()), jwk))
    }

    /// A key in a token, with the public JWK read from it (`kid` computed
    /// here, by the same RFC 7638 rule as every key).
    pub(crate) fn from_hardware(key: HsmKey, jwk: Jwk) -> Self {
        Self::finish(Signer::Hardware(Box::new(key)), jwk)
    }

    /// The key in hardware, if it is one.
    pub(crate) fn hardware(&self) -> Option<&HsmKey> {
        match &self.signer {
            Signer::Hardware(key) => Some(key),
            _ => None,
        }
    }

    fn finish(signer: Signer, mut jwk: Jwk) -> Self {
        jwk.kid = B64.encode(tollgate_jose::digest::sha256(
            jwk.thumbprint_input().as_bytes(),
        ));
        let header = format!(
            r#"{{"alg":"{}","kid":"{}","typ":"at+jwt"}}"#,
            jwk.alg, jwk.kid
        );
        Self {
            signer,
            header_b64: B64.encode(header),
            jwk,
        }
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        match &self.signer {
            Signer::Ecdsa(..) => Algorithm::ES256,
            Signer::Ed25519(_) => Algorithm::EdDSA,
            Signer::Rsa(..) => Algorithm::RS256,
            Signer::Hardware(key) => key.algorithm(),
        }
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `claims` (already JSON) as a compact JWS with header
    /// `{"alg":...,"kid":...,"typ":"at+jwt"}`.
    pub fn sign_jwt(&self, claims_json: &[u8]) -> Result<String, KeyError> {
        let payload_len = claims_json.len().div_ceil(3) * 4;
        let mut jwt = String::with_capacity(self.header_b64.len() + payload_len + 350);
        jwt.push_str(&self.header_b64);
        jwt.push('.');
        B64.encode_string(claims_json, &mut jwt);
        let unusable = |e: aws_lc_rs::error::Unspecified| KeyError::Unusable(e.to_string());
        let signature = match &self.signer {
            Signer::Ecdsa(pair, rng) => {
                let sig = pair.sign(rng, jwt.as_bytes()).map_err(unusable)?;
                B64.encode(sig.as_ref())
            }
            Signer::Ed25519(pair) => B64.encode(pair.sign(jwt.as_bytes()).as_ref()),
            Signer::Rsa(pair, rng) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, rng, jwt.as_bytes(), &mut sig)
                    .map_err(unusable)?;
                B64.encode(sig)
            }
            Signer::Hardware(key) => B64.encode(key.sign(jwt.as_bytes())?),
        };
        jwt.push('.');
        jwt.push_str(&signature);
        Ok(jwt)
    }
}

/// The public JWK of an uncompressed P-256 point (`0x04 || x || y`); its
/// `kid` is set by [`SigningKey::finish`].
pub(super) fn ec_jwk(point: &[u8]) -> Jwk {
    Jwk {
        kty: "EC",
        crv: Some("P-256"),
        x: Some(B64.encode(&point[1..33])),
        y: Some(B64.encode(&point[33..])),
        n: None,
        e: None,
        kid: String::new(),
        alg: "ES256",
        use_: "sig",
    }
}

/// The public JWK of an RSA key (big-endian modulus and exponent).
pub(super) fn rsa_jwk(n: &[u8], e: &[u8]) -> Jwk {
    Jwk {
        kty: "RSA",
        crv: None,
        x: None,
        y: None,
        n: Some(B64.encode(n)),
        e: Some(B64.encode(e)),
        kid: String::new(),
        alg: "RS256",
        use_: "sig",
    }
}

/// Panics unless `jwt`'s signature verifies with `key`'s public JWK (for
/// the tests of this module and of the batch signer).
#[cfg(test)]
pub(super) fn verify_jwt(key: &SigningKey, jwt: &str) {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
        UnparsedPublicKey,
    };
    let (signed, sig) = jwt.rsplit_once('.').unwrap();
    let sig = B64.decode(sig).unwrap();
    let jwk = key.jwk();
    let b = |s: &Option<String>| B64.decode(s.as_ref().unwrap()).unwrap();
    match key.algorithm() {
        Algorithm::ES256 => {
            let mut point = vec![4u8];
            point.extend(b(&jwk.x));
            point.extend(b(&jwk.y));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &sig)
                .unwrap();
        }
        Algorithm::EdDSA => UnparsedPublicKey::new(&ED25519, b(&jwk.x))
            .verify(signed.as_bytes(), &sig)
            .unwrap(),
        Algorithm::RS256 => RsaPublicKeyComponents {
            n: b(&jwk.n),
            e: b(&jwk.e),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &sig)
        .unwrap(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7638_thumbprint_input_has_exactly_the_required_members_in_order() {
        let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
        let jwk = key.jwk();
        assert_eq!(
            jwk.thumbprint_input(),
            format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                jwk.x.as_ref().unwrap(),
                jwk.y.as_ref().unwrap()
            )
        );
        assert_eq!(key.kid().len(), 43);
    }

    #[test]
    fn rfc_7638_section_3_1_example_thumbprint() {
        // The RSA key of RFC 7638 §3.1 and its published thumbprint.
        let jwk = Jwk {
            kty: "RSA",
            crv: None,
            x: None,
            y: None,
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into()),
            e: Some("AQAB".into()),
            kid: String::new(),
            alg: "RS256",
            use_: "sig",
        };
        assert_eq!(
            B64.encode(tollgate_jose::digest::sha256(
                jwk.thumbprint_input().as_bytes()
            )),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_round_trips_through_pem_and_verifies_with_its_jwk() {
        for alg in Algorithm::ALL {
            let (key, pem) = SigningKey::generate(alg).unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{alg}");
            let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(key.kid(), again.kid(), "{alg}");
            assert!(!format!("{key:?}").contains("PRIVATE"));
            let jwt = again.sign_jwt(br#"{"sub":"x"}"#).unwrap();
            let header: serde_json::Value =
                serde_json::from_slice(&B64.decode(jwt.split('.').next().unwrap()).unwrap())
                    .unwrap();
            assert_eq!(header["alg"], alg.as_str());
            assert_eq!(header["kid"], key.kid());
            assert_eq!(header["typ"], "at+jwt");
            verify_jwt(&key, &jwt);
        }
    }

    #[test]
    fn garbage_and_other_pem_blocks_are_not_keys() {
        let err = |pem: &str| SigningKey::from_pkcs8_pem(pem).unwrap_err().to_string();
        assert!(err("not a key").contains("not a PEM file"));
        assert!(
            err("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .contains("not a P-256, Ed25519 or RSA")
        );
        assert!(
            err("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")
                .contains("openssl pkcs8 -topk8")
        );
    }
}
