//! A provider's id token, verified as OpenID Connect Core §3.1.3.7 asks:
//! the signature by a key of the provider's JWK Set under tollgate's one
//! JOSE policy (`tollgate_jose::jose`: the algorithms and key rules every
//! token tollgate trusts passes), `iss` the provider's issuer, `aud` our
//! client id at it (and `azp` when there are several audiences), `exp`
//! not past, and `nonce` the one this browser's sign-in sent. Pure: the
//! keys are given.

use serde_json::{Map, Value};
use tollgate_jose::jose::{self, PublicKeys};

/// How far the provider's clock may be off ours, in seconds.
const LEEWAY: i64 = 60;

/// Why an id token is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Its `kid` names no key in hand: fetch the keys again (a rotation).
    UnknownKey,
    /// Anything else; the text is for the log.
    Claims(String),
}

/// The claims of `token` if it is the provider's id token for this
/// sign-in.
pub(crate) fn verify(
    token: &str,
    keys: &PublicKeys,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<Map<String, Value>, Invalid> {
    let bad = |why: &str| Invalid::Claims(why.to_owned());
    let jwt = jose::peek(token).ok_or_else(|| bad("not a signed JWT"))?;
    let kid = jwt.header.kid.as_deref();
    let mut candidates = keys.candidates(kid, jwt.header.alg).peekable();
    if candidates.peek().is_none() {
        return Err(if kid.is_some_and(|k| !keys.has_kid(k)) {
            Invalid::UnknownKey
        } else {
            bad("no key of the provider takes its algorithm")
        });
    }
    if !candidates.any(|key| jose::verifies(token, &jwt, key)) {
        return Err(bad("the signature does not verify"));
    }
    let claims = jwt.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(issuer) {
        return Err(bad("iss is not the provider's issuer"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&client_id) {
        return Err(bad("aud does not hold our client id"));
    }
    if audiences.len() > 1 && text("azp") != Some(client_id) {
        return Err(bad("several audiences and azp is not our client id"));
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp + LEEWAY > now => {}
        Some(_) => return Err(bad("expired")),
        None => return Err(bad("no exp")),
    }
    if claims.get("iat").and_then(Value::as_i64).is_none() {
        return Err(bad("no iat"));
    }
    let sent = text("nonce").is_some_and(|n| {
        aws_lc_rs::constant_time::verify_slices_are_equal(n.as_bytes(), nonce.as_bytes()).is_ok()
    });
    if !sent {
        return Err(bad("nonce is not the one this sign-in sent"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    /// An ES256 key pair: its signing key and its JWK Set (`kid` "k1").
    fn key() -> (EncodingKey, PublicKeys) {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let signing = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let public = pair.public_key_raw();
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
            "x": b64(&public[1..33]), "y": b64(&public[33..65])});
        (
            signing,
            jose::parse_jwk_set(&json!({ "keys": [jwk] })).unwrap(),
        )
    }

    fn token(signing: &EncodingKey, kid: &str, claims: Value) -> String {
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, signing).unwrap()
    }

    fn claims() -> Value {
        json!({"iss": "https://login.corp.example", "aud": "tollgate", "sub": "00u1",
               "exp": 2000, "iat": 1000, "nonce": "n-1"})
    }

    fn check(token: &str, keys: &PublicKeys) -> Result<Map<String, Value>, Invalid> {
        verify(
            token,
            keys,
            "https://login.corp.example",
            "tollgate",
            "n-1",
            1500,
        )
    }

    #[test]
    fn the_providers_token_for_this_sign_in_is_taken() {
        let (signing, keys) = key();
        let claims = check(&token(&signing, "k1", claims()), &keys).unwrap();
        assert_eq!(claims["sub"], "00u1");
    }

    #[test]
    fn every_claim_the_spec_checks_is_checked() {
        let (signing, keys) = key();
        let cases = [
            ("iss", json!("https://evil.example")),
            ("aud", json!("someone-else")),
            ("aud", json!(["tollgate", "other"])),
            ("exp", json!(1400)),
            ("exp", json!(null)),
            ("iat", json!(null)),
            ("nonce", json!("n-2")),
            ("nonce", json!(null)),
        ];
        for (name, value) in cases {
            let mut c = claims();
            if value.is_null() {
                c.as_object_mut().unwrap().remove(name);
            } else {
                c[name] = value.clone();
            }
            let refused = check(&token(&signing, "k1", c), &keys);
            assert!(
                matches!(refused, Err(Invalid::Claims(_))),
                "{name} = {value}"
            );
        }
        // Several audiences with azp ours: taken.
        let mut c = claims();
        c["aud"] = json!(["tollgate", "other"]);
        c["azp"] = json!("tollgate");
        assert!(check(&token(&signing, "k1", c), &keys).is_ok());
    }

    #[test]
    fn another_keys_signature_or_an_unknown_kid_is_not_taken() {
        let (_, keys) = key();
        let (other, _) = key();
        let forged = check(&token(&other, "k1", claims()), &keys);
        assert_eq!(
            forged,
            Err(Invalid::Claims("the signature does not verify".into()))
        );
        // A kid not in hand: the keys may have rotated, fetch them again.
        assert_eq!(
            check(&token(&other, "k2", claims()), &keys),
            Err(Invalid::UnknownKey)
        );
        // alg none, or not a JWT at all.
        let none = format!("{}.{}.", "eyJhbGciOiJub25lIn0", "eyJzdWIiOiIwMHUxIn0");
        assert!(check(&none, &keys).is_err());
        assert!(check("garbage", &keys).is_err());
    }
}
