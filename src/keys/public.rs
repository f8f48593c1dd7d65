//! The public side of a signing key, whatever holds the private side (a
//! file, a token): the JWS algorithm, the JWK the JWKS publishes, and the
//! RFC 7638 thumbprint input its `kid` is the hash of.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;

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
    pub(super) fn thumbprint_input(&self) -> String {
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

/// The public JWK of an uncompressed P-256 point (`0x04 || x || y`); its
/// `kid` is set when the key is made.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7638_thumbprint_input_has_exactly_the_required_members_in_order() {
        let (key, _) = crate::keys::SigningKey::generate(Algorithm::ES256).unwrap();
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
}
