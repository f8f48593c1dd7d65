//! DPoP proofs (RFC 9449 §4): a JWT the client signs with the key a token
//! is bound to, for one HTTP request. The rules every receiver applies —
//! `typ` `dpop+jwt`, an asymmetric `alg`, a public `jwk` in the header that
//! verifies it, `htm` and `htu` of the request, `iat` close to now, a `jti`
//! — are here; the token endpoint and resource servers add their own
//! (single use of `jti`; `ath` at an API).

use serde_json::Value;

use super::jose::{self, ALGORITHMS};

/// How far `iat` may be from now, either way.
pub const WINDOW: i64 = 60;

/// A proof that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 thumbprint of the proof's key: `cnf.jkt` of the token.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
    /// `ath`: base64url SHA-256 of the access token, at an API.
    pub ath: Option<String>,
}

/// Checks `proof` for a request with `method` to `url` at `now` (Unix
/// seconds); the error says what is wrong (for the client: it is its own
/// proof).
pub fn verify(proof: &str, method: &str, url: &str, now: i64) -> Result<Proof, &'static str> {
    let jwt = jose::peek(proof).ok_or("the DPoP proof is not a JWT")?;
    let typ = jwt.raw_header.get("typ").and_then(Value::as_str);
    if typ != Some("dpop+jwt") {
        return Err("the DPoP proof's typ must be dpop+jwt");
    }
    if !ALGORITHMS.contains(&jwt.header.alg) {
        return Err("the DPoP proof must be signed with an asymmetric algorithm");
    }
    if jwt.raw_header.contains_key("crit") {
        return Err("the DPoP proof has crit header parameters");
    }
    let jwk = jwt
        .raw_header
        .get("jwk")
        .ok_or("the DPoP proof has no jwk in its header")?;
    let key = jose::parse_jwk(jwk)
        .map_err(|_| "the DPoP proof's jwk is not a public key tollgate accepts")?;
    if !jose::verifies(proof, &jwt, &key) {
        return Err("the DPoP proof's signature does not verify with its jwk");
    }
    let claim = |name: &str| jwt.claims.get(name);
    if claim("htm").and_then(Value::as_str) != Some(method) {
        return Err("the DPoP proof's htm is not the request's method");
    }
    let htu = claim("htu")
        .and_then(Value::as_str)
        .ok_or("the DPoP proof has no htu")?;
    if !same_uri(htu, url) {
        return Err("the DPoP proof's htu is not the request's URL");
    }
    let iat = claim("iat")
        .and_then(Value::as_i64)
        .ok_or("the DPoP proof has no iat")?;
    if iat.abs_diff(now) > WINDOW.unsigned_abs() {
        return Err("the DPoP proof's iat is not within 60 seconds of now");
    }
    let jti = claim("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or("the DPoP proof has no jti")?;
    Ok(Proof {
        jkt: key.thumbprint,
        jti: jti.to_owned(),
        iat,
        ath: claim("ath").and_then(Value::as_str).map(str::to_owned),
    })
}

/// §4.3: `htu` matches the request's URI "ignoring any query and fragment
/// parts" (and, as URIs, case and default ports).
fn same_uri(htu: &str, url: &str) -> bool {
    let normal = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    matches!((normal(htu), normal(url)), (Some(a), Some(b)) if a == b)
}

/// The `ath` of an access token: base64url SHA-256 of its ASCII.
pub fn ath(access_token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(crate::digest::sha256(access_token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_ignores_query_fragment_case_and_default_ports() {
        assert!(same_uri(
            "https://ID.example/connect/token",
            "https://id.example:443/connect/token?x=1"
        ));
        assert!(!same_uri(
            "https://id.example/connect/token",
            "https://id.example/other"
        ));
        assert!(!same_uri("not a url", "https://id.example/"));
    }
}
