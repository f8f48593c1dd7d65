//! The proof that a token's private key is the one tollgate publishes. The
//! public key is read from the token once, when the key is loaded, and its
//! `kid` derived from it; afterwards the token is trusted only to sign,
//! never to say which key it signs with. So at every (re)connection the
//! private key found by label signs a fresh challenge, and the signature
//! must verify with the public key that was published: a pair replaced
//! under the same label fails, whatever public key the token now holds.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;

use crate::keys::public::{Algorithm, Jwk, ec_jwk, rsa_jwk};

/// The public key of a key in a token, as read when it was loaded: what
/// the JWKS publishes and what every later signature must verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublishedKey {
    /// An uncompressed P-256 point: `0x04 || x || y`.
    P256(Vec<u8>),
    /// Modulus and public exponent, big-endian, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublishedKey {
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Self::P256(_) => Algorithm::ES256,
            Self::Rsa { .. } => Algorithm::RS256,
        }
    }

    /// The JWK (its `kid` still to be computed).
    pub(crate) fn jwk(&self) -> Jwk {
        match self {
            Self::P256(point) => ec_jwk(point),
            Self::Rsa { n, e } => rsa_jwk(n, e),
        }
    }

    /// Whether `signature` (as the JWS encodes it) is this key's over
    /// `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::P256(point) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok(),
            Self::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }
}

/// The signature of `input` by `key` (the JWS signing input when it signs
/// a token), as the JWS encodes it (ECDSA: `r || s`).
pub(crate) fn sign(
    session: &Session,
    key: ObjectHandle,
    algorithm: Algorithm,
    input: &[u8],
) -> Result<Vec<u8>, cryptoki::error::Error> {
    match algorithm {
        Algorithm::ES256 => {
            let digest = tollgate_jose::digest::sha256(input);
            session.sign(&Mechanism::Ecdsa, key, &digest)
        }
        Algorithm::RS256 => session.sign(&Mechanism::Sha256RsaPkcs, key, input),
        Algorithm::EdDSA => Err(cryptoki::error::Error::NotSupported),
    }
}

/// Why a signature the module returned is not in the JWS form, if it is
/// not (some modules return ECDSA signatures DER-encoded).
pub(crate) fn malformed(algorithm: Algorithm, signature: &[u8]) -> Option<String> {
    (algorithm == Algorithm::ES256 && signature.len() != 64).then(|| {
        format!(
            "the module returned a {}-byte ECDSA signature, not r || s (64 bytes)",
            signature.len()
        )
    })
}

/// Why a key did not prove to be the published one.
#[derive(Debug)]
pub(crate) enum Unproven {
    /// It signed, and the signature does not verify with the published
    /// key: another private key holds the label.
    Mismatch,
    /// It could not be asked (the module failed, or answered malformed).
    Failed(String),
}

/// `Ok` if the private key `key` signs a fresh challenge with a signature
/// that verifies with `published`.
pub(crate) fn prove(
    session: &Session,
    key: ObjectHandle,
    published: &PublishedKey,
) -> Result<(), Unproven> {
    // Fresh each time, so that no recorded answer can stand in for the key.
    let mut challenge = [0u8; 48];
    challenge[..16].copy_from_slice(b"tollgate: proof ");
    aws_lc_rs::rand::fill(&mut challenge[16..])
        .map_err(|_| Unproven::Failed("no random challenge".into()))?;
    let algorithm = published.algorithm();
    let signature = sign(session, key, algorithm, &challenge)
        .map_err(|e| Unproven::Failed(format!("the token did not sign: {e}")))?;
    if let Some(why) = malformed(algorithm, &signature) {
        return Err(Unproven::Failed(why));
    }
    if published.verifies(&challenge, &signature) {
        Ok(())
    } else {
        Err(Unproven::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    };

    fn p256() -> (EcdsaKeyPair, PublishedKey) {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let published = PublishedKey::P256(pair.public_key().as_ref().to_vec());
        (pair, published)
    }

    #[test]
    fn a_signature_verifies_with_its_own_published_key_only() {
        let rng = SystemRandom::new();
        let (pair, published) = p256();
        let (_, other) = p256();
        let signature = pair.sign(&rng, b"challenge").unwrap();
        assert!(published.verifies(b"challenge", signature.as_ref()));
        assert!(!published.verifies(b"another", signature.as_ref()));
        assert!(!other.verifies(b"challenge", signature.as_ref()));
        assert_eq!(published.algorithm(), Algorithm::ES256);
        assert_eq!(published.jwk().crv, Some("P-256"));

        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = rsa.public_key();
        let published = PublishedKey::Rsa {
            n: public.modulus().big_endian_without_leading_zero().to_vec(),
            e: public.exponent().big_endian_without_leading_zero().to_vec(),
        };
        let mut signature = vec![0; rsa.public_modulus_len()];
        rsa.sign(&RSA_PKCS1_SHA256, &rng, b"challenge", &mut signature)
            .unwrap();
        assert!(published.verifies(b"challenge", &signature));
        assert!(!published.verifies(b"another", &signature));
        assert_eq!(published.algorithm(), Algorithm::RS256);
    }

    #[test]
    fn an_ecdsa_signature_in_der_is_named_malformed() {
        assert!(malformed(Algorithm::ES256, &[0; 64]).is_none());
        assert!(
            malformed(Algorithm::ES256, &[0; 71])
                .unwrap()
                .contains("71-byte")
        );
        assert!(malformed(Algorithm::RS256, &[0; 256]).is_none());
    }
}
