//! A client's DPoP key (RFC 9449) and the proofs it makes.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::{Signer, unique};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A client's DPoP key.
pub(crate) struct Dpop {
    pub(crate) signer: Signer,
}

impl Dpop {
    pub(crate) fn new() -> Self {
        Self {
            signer: Signer::new(tollgate::Algorithm::ES256),
        }
    }

    pub(crate) fn jkt(&self) -> String {
        self.signer.kid()
    }

    /// A proof with `claims` (htm, htu, iat, jti, maybe ath), `typ` and the
    /// public JWK in the header unless `header` says otherwise.
    pub(crate) fn proof_with(&self, header: impl FnOnce(&mut Header), claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.typ = Some("dpop+jwt".into());
        let mut public = self.signer.jwk.clone();
        public.as_object_mut().unwrap().remove("kid");
        h.jwk = Some(serde_json::from_value(public).unwrap());
        header(&mut h);
        let key = EncodingKey::from_ec_pem(self.signer.pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&h, claims, &key).unwrap()
    }

    pub(crate) fn proof(&self, method: &str, url: &str, iat: i64, token: Option<&str>) -> String {
        let mut claims =
            json!({"htm": method, "htu": url, "iat": iat, "jti": format!("p{}", unique())});
        if let Some(t) = token {
            claims["ath"] = json!(B64.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                t.as_bytes()
            )));
        }
        self.proof_with(|_| {}, &claims)
    }
}
