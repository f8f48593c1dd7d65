//! Keys: the server's key files, and a client's or a platform's key pair
//! that signs assertions ([`Signer`]).

use std::path::Path;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use tollgate::SigningKey;

/// The `.pem` files of `dir`, sorted.
pub(crate) fn key_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".pem"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Writes a new private key of `alg` to `dir/name` (0600) and returns its kid.
pub(crate) fn write_key(dir: &Path, name: &str, alg: tollgate::Algorithm) -> String {
    let (key, pem) = tollgate::SigningKey::generate(alg).unwrap();
    tollgate::write_new(&dir.join(name), pem.as_bytes()).unwrap();
    key.kid().to_owned()
}

/// The `client_assertion_type` of RFC 7523.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key pair of a client or a platform, and its public JWK.
pub(crate) struct Signer {
    pub(crate) pem: String,
    pub(crate) alg: Algorithm,
    pub(crate) jwk: Value,
}

impl Signer {
    pub(crate) fn new(alg: tollgate::Algorithm) -> Self {
        let (key, pem) = SigningKey::generate(alg).unwrap();
        let jwk = serde_json::to_value(key.jwk()).unwrap();
        let alg = match alg {
            tollgate::Algorithm::ES256 => Algorithm::ES256,
            tollgate::Algorithm::EdDSA => Algorithm::EdDSA,
            tollgate::Algorithm::RS256 => Algorithm::RS256,
        };
        Self { pem, alg, jwk }
    }

    pub(crate) fn kid(&self) -> String {
        self.jwk["kid"].as_str().unwrap().to_owned()
    }

    pub(crate) fn sign_without_kid(&self, claims: &Value) -> String {
        self.sign_with(None, claims)
    }

    pub(crate) fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        self.sign_with(
            Some(kid.map(str::to_owned).unwrap_or_else(|| self.kid())),
            claims,
        )
    }

    fn sign_with(&self, kid: Option<String>, claims: &Value) -> String {
        let key = match self.alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(self.pem.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(self.pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(self.pem.as_bytes()),
        }
        .unwrap();
        let mut header = Header::new(self.alg);
        header.kid = kid;
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// The JWK as a TOML inline table.
    pub(crate) fn toml(&self) -> String {
        let members: Vec<String> = self
            .jwk
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        format!("{{ {} }}", members.join(", "))
    }
}

pub(crate) fn assertion_form(assertion: &str) -> String {
    format!(
        "grant_type=client_credentials&client_assertion_type={JWT_BEARER}&client_assertion={assertion}"
    )
}
