//! One private signing key: parsed once (or found in a PKCS#11 token), its
//! public JWK and RFC 7638 `kid`, the JWT header pre-encoded, and compact
//! JWS signing: in software, or through the token's module.
//!
//! p256 reads and writes ES256 key material (PKCS#8 PEM, curve checks);
//! aws-lc-rs signs with every algorithm, because it is about three times
//! faster than the pure-Rust implementations and signing is the floor of
//! token throughput.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

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

use super::KeyError;
use super::pkcs11::{HsmKey, Pkcs11Key};
use super::public::{Algorithm, Jwk, ec_jwk, rsa_jwk};
use tollgate_core::TokenKind;

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
    /// The header of an OpenID Connect id token: `typ` `JWT`, so an id
    /// token is never taken for an access token (RFC 9068 §4).
    id_header_b64: String,
    /// The header of a logout token: `typ` `logout+jwt` (Back-Channel
    /// Logout 1.0 §2.4).
    logout_header_b64: String,
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

    /// The key `spec` names in a PKCS#11 token, its `kid` by the same RFC
    /// 7638 rule as every key. Opened once per process and shared by every
    /// configuration that lists it: a reload does not log in again, and a
    /// token that is away does not fail a reload that keeps its key.
    pub(crate) fn in_token(spec: &Pkcs11Key) -> Result<Arc<Self>, KeyError> {
        static OPEN: LazyLock<Mutex<HashMap<Pkcs11Key, Weak<SigningKey>>>> =
            LazyLock::new(Mutex::default);
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = open.get(spec).and_then(Weak::upgrade) {
            return Ok(key);
        }
        let (hsm, jwk) = HsmKey::open(spec.clone())?;
        let key = Arc::new(Self::finish(Signer::Hardware(Box::new(hsm)), jwk));
        open.retain(|_, k| k.strong_count() > 0);
        open.insert(spec.clone(), Arc::downgrade(&key));
        Ok(key)
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
        let header = |typ: &str| {
            B64.encode(format!(
                r#"{{"alg":"{}","kid":"{}","typ":"{typ}"}}"#,
                jwk.alg, jwk.kid
            ))
        };
        Self {
            signer,
            header_b64: header("at+jwt"),
            id_header_b64: header("JWT"),
            logout_header_b64: header("logout+jwt"),
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
        self.sign_jwt_as(claims_json, TokenKind::Access)
    }

    /// Signs `claims` as a token of `kind`: `typ` `at+jwt` for an access
    /// token, `JWT` for an id token, `logout+jwt` for a logout token.
    pub fn sign_jwt_as(&self, claims_json: &[u8], kind: TokenKind) -> Result<String, KeyError> {
        let header = match kind {
            TokenKind::Access => &self.header_b64,
            TokenKind::Id => &self.id_header_b64,
            TokenKind::Logout => &self.logout_header_b64,
        };
        let payload_len = claims_json.len().div_ceil(3) * 4;
        let mut jwt = String::with_capacity(header.len() + payload_len + 350);
        jwt.push_str(header);
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
