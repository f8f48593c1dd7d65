//! Client assertions (RFC 7521 §4.2, RFC 7523 §2.2): a JWT in
//! `client_assertion`. What it proves depends on who signed it: the client
//! itself with its own key (`private_key_jwt`), or a platform tollgate
//! trusts (a Kubernetes service-account token, a GitHub Actions token:
//! federation). This file reads the assertion and holds the rules both
//! share (algorithms, audience, lifetime).

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::super::client::MAX_CLIENT_ID_LEN;
use super::super::error::Challenge;
use super::super::params::Params;
use super::super::refusal::{Reason, Refusal};
use tollgate_jose::jose::{self, ALGORITHMS, PublicKey, PublicKeys, Unverified};

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed between the signer and us.
pub const LEEWAY: i64 = 30;

/// An assertion as a request presented it.
#[derive(Debug)]
pub struct Presented {
    pub token: String,
    pub jwt: Unverified,
    /// `client_id` in the body, if sent: the assertion must be its.
    pub client_id: Option<String>,
}

impl Presented {
    /// The issuer of the assertion (a client id, or a platform).
    pub fn iss(&self) -> Option<&str> {
        self.jwt.claims.get("iss").and_then(Value::as_str)
    }

    /// The id the request claims, for the audit trail.
    pub fn claimed_id(&self) -> Option<&str> {
        self.client_id.as_deref().or_else(|| self.iss())
    }
}

/// The assertion in a request, if it carries one.
pub fn extract(params: &Params) -> Option<Result<Presented, Refusal>> {
    // A JWT holds no whitespace; a trailing newline is what a file read
    // into a form field leaves, not part of the token.
    let assertion = params
        .get("client_assertion")
        .map(|a| a.trim_matches(|c: char| c.is_ascii_whitespace()));
    let kind = params.get("client_assertion_type");
    if assertion.is_none() && kind.is_none() {
        return None;
    }
    Some((|| {
        let (Some(assertion), Some(kind)) = (assertion, kind) else {
            return Err(Refusal::invalid_request(
                Reason::MissingParameter,
                "client_assertion and client_assertion_type go together",
            ));
        };
        if kind != JWT_BEARER {
            return Err(Refusal::invalid_request(
                Reason::UnsupportedAssertionType,
                format!("client_assertion_type must be {JWT_BEARER}"),
            ));
        }
        let jwt = jose::peek(assertion)
            .ok_or_else(|| Refusal::client(Reason::MalformedAssertion, Challenge::None))?;
        Ok(Presented {
            token: assertion.to_owned(),
            jwt,
            client_id: params.get("client_id").map(str::to_owned),
        })
    })())
}

/// RFC 7523 §2.1: a platform's token (or a client's own assertion)
/// presented as the grant, in `assertion`. It is the request's credential,
/// as `client_assertion` would be, so another one beside it is refused.
pub(crate) fn extract_grant(
    params: &Params,
    authorization: Option<&[u8]>,
) -> Result<Presented, Refusal> {
    let other = authorization.is_some()
        || ["client_secret", "client_assertion", "client_assertion_type"]
            .iter()
            .any(|p| params.get(p).is_some());
    if other {
        return Err(Refusal::invalid_request(
            Reason::SeveralAuthMethods,
            "the assertion is this grant's credential: send no other client authentication",
        ));
    }
    let assertion = params
        .get("assertion")
        .map(|a| a.trim_matches(|c: char| c.is_ascii_whitespace()))
        .ok_or_else(|| {
            Refusal::invalid_request(Reason::MissingParameter, "assertion is missing")
        })?;
    let jwt = jose::peek(assertion).ok_or_else(|| {
        Refusal::invalid_grant(Reason::MalformedAssertion, "the assertion is not a JWT")
    })?;
    Ok(Presented {
        token: assertion.to_owned(),
        jwt,
        client_id: params.get("client_id").map(str::to_owned),
    })
}

/// The header rules: an asymmetric algorithm we accept, no `crit`.
pub fn check_header(jwt: &Unverified) -> Result<Algorithm, Reason> {
    if !ALGORITHMS.contains(&jwt.header.alg) {
        return Err(Reason::AlgorithmNotAllowed);
    }
    // RFC 7515 §4.1.11: extensions that must be understood; none are.
    if jwt.raw_header.contains_key("crit") {
        return Err(Reason::MalformedAssertion);
    }
    Ok(jwt.header.alg)
}

/// The most keys one assertion is tried against. A JWS without a `kid`
/// may have been signed by any key of its algorithm, and a forged one is
/// tried against each: a key set of 182 RSA keys made every forgery cost
/// 53 ms of CPU. With more keys than this, the `kid` must name one.
pub(crate) const MAX_CANDIDATE_KEYS: usize = 4;

/// The key of `keys` that signed `token`, if one did; never more than
/// [`MAX_CANDIDATE_KEYS`] keys tried.
pub fn signed_by<'a>(
    token: &str,
    jwt: &'a Unverified,
    alg: Algorithm,
    keys: &'a PublicKeys,
) -> Result<&'a PublicKey, Reason> {
    let kid = jwt.header.kid.as_deref();
    let candidates: Vec<&PublicKey> = keys
        .candidates(kid, alg)
        .take(MAX_CANDIDATE_KEYS + 1)
        .collect();
    if candidates.is_empty() {
        return Err(Reason::UnknownKey);
    }
    if candidates.len() > MAX_CANDIDATE_KEYS {
        return Err(Reason::TooManyKeys);
    }
    candidates
        .into_iter()
        .find(|k| jose::verifies(token, jwt, k))
        .ok_or(Reason::BadSignature)
}

/// A string claim.
pub(crate) fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a str, Reason> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .ok_or(Reason::MissingClaim)
}

/// `aud` (a string or an array of them) holds one of `accepted`: a
/// platform's token may name several audiences.
pub(crate) fn check_audience(claims: &Map<String, Value>, accepted: &[&str]) -> Result<(), Reason> {
    let holds = |v: &Value| v.as_str().is_some_and(|a| accepted.contains(&a));
    let ok = match claims.get("aud") {
        Some(Value::String(_)) => claims.get("aud").is_some_and(holds),
        Some(Value::Array(list)) => list.iter().any(holds),
        _ => false,
    };
    ok.then_some(()).ok_or(Reason::WrongAudience)
}

/// `aud` names one of `accepted` and nothing else (a string, or an array
/// of one): an assertion a client made for us must not be usable at
/// another server too (RFC 7523bis; the 2025 audience-injection advisory).
pub fn check_sole_audience(claims: &Map<String, Value>, accepted: &[&str]) -> Result<(), Reason> {
    let holds = |v: &Value| v.as_str().is_some_and(|a| accepted.contains(&a));
    let ok = match claims.get("aud") {
        Some(v @ Value::String(_)) => holds(v),
        Some(Value::Array(list)) => list.len() == 1 && holds(&list[0]),
        _ => false,
    };
    ok.then_some(()).ok_or(Reason::WrongAudience)
}

/// The time rules: `exp` required and not passed; `nbf` and `iat`, if
/// present, not in the future; `exp` at most `max_lifetime` after `iat`
/// (after now without one). All with [`LEEWAY`]. Returns `exp`.
pub fn check_times(
    claims: &Map<String, Value>,
    now: i64,
    max_lifetime: i64,
) -> Result<i64, Reason> {
    let number = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(Reason::MalformedAssertion),
    };
    let exp = number("exp")?.ok_or(Reason::MissingClaim)?;
    let iat = number("iat")?;
    // Saturating and checked: the numbers are the sender's, any i64, and
    // a wrapped difference once made a 10,000-year assertion look short.
    if exp.saturating_add(LEEWAY) <= now {
        return Err(Reason::AssertionExpired);
    }
    for t in [number("nbf")?, iat].into_iter().flatten() {
        if t > now.saturating_add(LEEWAY) {
            return Err(Reason::AssertionNotYetValid);
        }
    }
    let lifetime = exp.checked_sub(iat.unwrap_or(now));
    if lifetime.is_none_or(|l| l > max_lifetime) {
        return Err(Reason::AssertionLifetimeTooLong);
    }
    Ok(exp)
}

/// The client id a request names (an assertion's `iss`, a certificate's
/// `client_id`), if it could be one: longer than any registered id can be
/// is its own reason, never looked up.
pub(crate) fn plausible_client_id(id: &str) -> Result<&str, Reason> {
    if id.len() > MAX_CLIENT_ID_LEN {
        return Err(Reason::ClientIdTooLong);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn lifetimes_at_the_edges_of_i64_are_too_long_not_wrapped() {
        let check =
            |iat: i64, exp: i64| check_times(&claims(json!({"iat": iat, "exp": exp})), NOW, 3600);
        assert_eq!(
            check(i64::MIN, 253_402_300_000),
            Err(Reason::AssertionLifetimeTooLong)
        );
        assert_eq!(
            check(i64::MIN, i64::MAX),
            Err(Reason::AssertionLifetimeTooLong)
        );
        assert_eq!(check(NOW, i64::MAX), Err(Reason::AssertionLifetimeTooLong));
        assert_eq!(check(NOW, NOW + 60), Ok(NOW + 60));
        let no_iat = |exp: i64| check_times(&claims(json!({"exp": exp})), NOW, 3600);
        assert_eq!(no_iat(i64::MAX), Err(Reason::AssertionLifetimeTooLong));
        assert_eq!(no_iat(i64::MIN), Err(Reason::AssertionExpired));
    }

    /// A P-256 key: its signer and its public JWK with `kid`.
    fn key(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid,
            "x": b64(&point[1..33]), "y": b64(&point[33..65])});
        (jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
    }

    fn signed(signer: &jsonwebtoken::EncodingKey, kid: Option<&str>) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, &json!({"iss": "c"}), signer).unwrap()
    }

    fn check(token: &str, keys: &PublicKeys) -> Result<Option<String>, Reason> {
        let jwt = jose::peek(token).unwrap();
        signed_by(token, &jwt, Algorithm::ES256, keys).map(|k| k.kid.clone())
    }

    #[test]
    fn an_assertion_is_tried_against_a_few_keys_at_most() {
        let made: Vec<_> = (0..=MAX_CANDIDATE_KEYS)
            .map(|i| key(&format!("k{i}")))
            .collect();
        let set = |n: usize| {
            let jwks =
                json!({"keys": made[..n].iter().map(|(_, j)| j.clone()).collect::<Vec<_>>()});
            jose::parse_jwk_set(&jwks).unwrap()
        };
        let (last, _) = &made[MAX_CANDIDATE_KEYS - 1];
        let few = set(MAX_CANDIDATE_KEYS);
        // Without a kid, up to MAX_CANDIDATE_KEYS keys are tried.
        assert_eq!(
            check(&signed(last, None), &few),
            Ok(Some(format!("k{}", MAX_CANDIDATE_KEYS - 1)))
        );
        let (stranger, _) = key("x");
        assert_eq!(
            check(&signed(&stranger, None), &few).unwrap_err(),
            Reason::BadSignature
        );
        // One more key: a kid is required, and none is tried without it.
        let many = set(MAX_CANDIDATE_KEYS + 1);
        assert_eq!(check(&signed(last, None), &many), Err(Reason::TooManyKeys));
        let kid = format!("k{}", MAX_CANDIDATE_KEYS - 1);
        assert_eq!(check(&signed(last, Some(&kid)), &many), Ok(Some(kid)));
        assert_eq!(
            check(&signed(last, Some("nope")), &many),
            Err(Reason::UnknownKey)
        );
        // Many keys sharing one kid are as many candidates.
        let shared = json!({"keys": made.iter().map(|(_, j)| {
            let mut j = j.clone();
            j["kid"] = json!("same");
            j
        }).collect::<Vec<_>>()});
        let shared = jose::parse_jwk_set(&shared).unwrap();
        assert_eq!(
            check(&signed(last, Some("same")), &shared),
            Err(Reason::TooManyKeys)
        );
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_time_rules_of_an_assertion_row_by_row() {
        let hour = 3600;
        let cases = [
            (json!({"exp": NOW + 60}), Ok(NOW + 60)),
            (json!({"exp": NOW + 60, "iat": NOW}), Ok(NOW + 60)),
            (json!({}), Err(Reason::MissingClaim)),
            (json!({"exp": "soon"}), Err(Reason::MalformedAssertion)),
            (json!({"exp": NOW - 31}), Err(Reason::AssertionExpired)),
            (json!({"exp": NOW - 29}), Ok(NOW - 29)),
            (
                json!({"exp": NOW + 60, "iat": NOW + 31}),
                Err(Reason::AssertionNotYetValid),
            ),
            (
                json!({"exp": NOW + 60, "nbf": NOW + 31}),
                Err(Reason::AssertionNotYetValid),
            ),
            (json!({"exp": NOW + 60, "iat": NOW + 29}), Ok(NOW + 60)),
            (
                json!({"exp": NOW + hour + 1, "iat": NOW}),
                Err(Reason::AssertionLifetimeTooLong),
            ),
            (
                json!({"exp": NOW + hour + 1}),
                Err(Reason::AssertionLifetimeTooLong),
            ),
            (json!({"exp": NOW + hour, "iat": NOW}), Ok(NOW + hour)),
            (
                json!({"exp": NOW + 2 * hour, "iat": NOW - hour}),
                Err(Reason::AssertionLifetimeTooLong),
            ),
        ];
        for (c, expected) in cases {
            assert_eq!(check_times(&claims(c.clone()), NOW, hour), expected, "{c}");
        }
    }

    #[test]
    fn the_audience_is_a_string_or_an_array_holding_an_accepted_value() {
        let ok = ["https://id", "https://id/connect/token"];
        assert!(check_audience(&claims(json!({"aud": "https://id"})), &ok).is_ok());
        assert!(
            check_audience(
                &claims(json!({"aud": ["x", "https://id/connect/token"]})),
                &ok
            )
            .is_ok()
        );
        for bad in [
            json!({}),
            json!({"aud": "x"}),
            json!({"aud": ["x"]}),
            json!({"aud": 1}),
        ] {
            assert_eq!(
                check_audience(&claims(bad), &ok),
                Err(Reason::WrongAudience)
            );
        }
    }

    #[test]
    fn a_clients_assertion_names_us_alone() {
        let ok = ["https://id", "https://id/connect/token"];
        for good in [
            json!({"aud": "https://id"}),
            json!({"aud": ["https://id/connect/token"]}),
        ] {
            assert!(check_sole_audience(&claims(good), &ok).is_ok());
        }
        for bad in [
            json!({"aud": ["https://other.example", "https://id"]}),
            json!({"aud": ["https://id", "https://id/connect/token"]}),
            json!({"aud": []}),
            json!({"aud": "x"}),
            json!({}),
        ] {
            assert_eq!(
                check_sole_audience(&claims(bad.clone()), &ok),
                Err(Reason::WrongAudience),
                "{bad}"
            );
        }
    }
}
