//! JOSE for the core: public keys from JWKs (parsed once, never with
//! private members), the algorithms each may verify, and signature checks
//! through jsonwebtoken. Parsing and cryptography are the library's; which
//! algorithms and keys are acceptable is this file's policy.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// The algorithms a client's (or platform's) JWT may be signed with:
/// asymmetric only, never `none` or HMAC (whose "key" is shared).
pub const ALGORITHMS: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// The names discovery lists: each algorithm's, and `Ed25519`, the
/// fully specified name of EdDSA on Ed25519 keys (RFC 9864).
pub fn advertised_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = ALGORITHMS.iter().map(|a| algorithm_name(*a)).collect();
    names.push("Ed25519");
    names
}

/// The name of an algorithm as JOSE writes it.
pub fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::RS256 => "RS256",
        Algorithm::PS256 => "PS256",
        _ => "unsupported",
    }
}

/// The largest RSA key accepted, in bits: checking a signature costs
/// about the square of the size, and forged signatures are free to send.
pub const MAX_RSA_BITS: usize = 4096;

/// Members of a JWK that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// One public key and what it may verify.
#[derive(Clone)]
pub struct PublicKey {
    pub kid: Option<String>,
    key: DecodingKey,
    /// The raw key of an Ed25519 JWK: JWSs that name their algorithm
    /// `Ed25519` (RFC 9864) are verified with it directly, since the JOSE
    /// library knows only `EdDSA`.
    ed25519: Option<Vec<u8>>,
    /// The algorithms this key verifies: those of its type (RSA: RS256
    /// and PS256), or the one its `alg` member names.
    pub algorithms: Vec<Algorithm>,
    /// RFC 7638 thumbprint (SHA-256, base64url).
    pub thumbprint: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// Where a key set lives: a JWKS URL, or an issuer whose discovery
/// document names one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JwksLocation {
    pub url: url::Url,
    /// `url` is an issuer: fetch its discovery document first.
    pub discovery: bool,
}

/// A set of public keys (a JWKS).
#[derive(Debug, Clone, Default)]
pub struct PublicKeys(pub Vec<PublicKey>);

/// Parses one JWK: a public key of a supported type.
pub fn parse_jwk(value: &Value) -> Result<PublicKey, String> {
    let object = value.as_object().ok_or("a JWK is a JSON object")?;
    if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| object.contains_key(**m)) {
        return Err(format!(
            "the JWK has the private member `{private}`; publish only the public key"
        ));
    }
    // RFC 7517 §4.2-4.3: a key published for encryption is not a key
    // that may verify signatures.
    if let Some(usage) = object.get("use")
        && usage.as_str() != Some("sig")
    {
        return Err(format!("the JWK's use is {usage}, not \"sig\""));
    }
    if let Some(ops) = object.get("key_ops")
        && !ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o.as_str() == Some("verify")))
    {
        return Err("the JWK's key_ops do not include \"verify\"".into());
    }
    let kty = object.get("kty").and_then(Value::as_str).unwrap_or("");
    if kty == "oct" {
        return Err("symmetric (oct) keys are not accepted; use an EC, OKP or RSA key".into());
    }
    let jwk: Jwk = serde_json::from_value(value.clone())
        .map_err(|e| format!("not a JWK tollgate can use ({e})"))?;
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return Err("EC keys must be on P-256 or P-384".into()),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        AlgorithmParameters::RSA(p) => {
            let bits = B64
                .decode(&p.n)
                .map(|n| n.iter().skip_while(|b| **b == 0).count() * 8)
                .unwrap_or(0);
            if bits < 2048 {
                return Err(format!(
                    "RSA keys must have at least 2048 bits (this one: {bits})"
                ));
            }
            if bits > MAX_RSA_BITS {
                return Err(format!(
                    "RSA keys may have at most {MAX_RSA_BITS} bits (this one: {bits}); \
                     larger keys make every signature check dearer"
                ));
            }
            vec![Algorithm::RS256, Algorithm::PS256]
        }
        _ => return Err("the key type must be EC (P-256, P-384), OKP (Ed25519) or RSA".into()),
    };
    let algorithms = match object.get("alg").and_then(Value::as_str) {
        None => by_type,
        Some(named) => match by_type.iter().find(|a| algorithm_name(**a) == named) {
            Some(a) => vec![*a],
            None => return Err(format!("alg {named:?} does not fit this key type")),
        },
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("the key does not load ({e})"))?;
    let thumbprint = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| format!("no thumbprint ({e})"))?;
    let ed25519 = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) => B64.decode(&p.x).ok(),
        _ => None,
    };
    Ok(PublicKey {
        kid: jwk.common.key_id.clone(),
        key,
        ed25519,
        algorithms,
        thumbprint,
    })
}

/// Parses a JWK Set (`{"keys": [...]}`); the problem of each bad key by
/// its index.
pub fn parse_jwk_set(value: &Value) -> Result<PublicKeys, Vec<(Option<usize>, String)>> {
    let Some(keys) = value.get("keys").and_then(Value::as_array) else {
        return Err(vec![(
            None,
            "a JWK Set is an object with a `keys` array".into(),
        )]);
    };
    let mut parsed = Vec::with_capacity(keys.len());
    let mut problems = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match parse_jwk(key) {
            Ok(k) => parsed.push(k),
            Err(e) => problems.push((Some(i), e)),
        }
    }
    if problems.is_empty() {
        Ok(PublicKeys(parsed))
    } else {
        Err(problems)
    }
}

/// A JWK Set from elsewhere (a client's or a platform's URL): the keys
/// tollgate can use, and the problems of those it cannot (a platform may
/// publish keys of other kinds too).
pub fn usable_keys(value: &Value) -> (PublicKeys, Vec<String>) {
    let keys = value.get("keys").and_then(Value::as_array);
    let Some(keys) = keys else {
        return (
            PublicKeys::default(),
            vec!["not a JWK Set (no `keys` array)".into()],
        );
    };
    let mut usable = Vec::new();
    let mut problems = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match parse_jwk(key) {
            Ok(k) => usable.push(k),
            Err(e) => problems.push(format!("keys[{i}]: {e}")),
        }
    }
    (PublicKeys(usable), problems)
}

impl PublicKeys {
    /// The keys that may verify a JWS with `kid` and `alg`: the one with
    /// that `kid`, or without a `kid` every key of the algorithm.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a PublicKey> {
        self.0.iter().filter(move |k| {
            k.algorithms.contains(&alg) && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))
        })
    }

    /// Whether the key with this RFC 7638 thumbprint is in the set.
    pub fn has(&self, thumbprint: &str) -> bool {
        self.0.iter().any(|k| k.thumbprint == thumbprint)
    }

    /// Whether a key has this `kid` (a refetch may find one that is new).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.0.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// A compact JWS read, not verified: its header (raw and typed) and claims.
#[derive(Debug)]
pub struct Unverified {
    /// Typed. An algorithm tollgate does not know reads as HS256, which
    /// policy refuses; `Ed25519` (RFC 9864) reads as `EdDSA`.
    pub header: jsonwebtoken::Header,
    pub raw_header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// The header said `Ed25519` rather than `EdDSA`.
    ed25519_named: bool,
}

/// Reads a compact JWS without verifying it (to route it, and to find its
/// key); `None` when it is not one.
pub fn peek(token: &str) -> Option<Unverified> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() {
        return None;
    }
    let raw_header: Map<String, Value> = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    let named = raw_header.get("alg").and_then(Value::as_str)?;
    let ed25519_named = named == "Ed25519";
    let mut typed = raw_header.clone();
    let alg = match named {
        "Ed25519" => "EdDSA",
        n if ALGORITHMS.iter().any(|a| algorithm_name(*a) == n) => n,
        // Unknown here (none, HS*, ES512...): refused by every policy.
        _ => "HS256",
    };
    typed.insert("alg".into(), Value::String(alg.into()));
    let header: jsonwebtoken::Header = serde_json::from_value(Value::Object(typed)).ok()?;
    Some(Unverified {
        header,
        raw_header,
        claims,
        ed25519_named,
    })
}

/// Whether `token` (read as `jwt`) has a signature that verifies with
/// `key` under the header's algorithm. Checks nothing else: the claims are
/// the caller's policy.
pub fn verifies(token: &str, jwt: &Unverified, key: &PublicKey) -> bool {
    let alg = jwt.header.alg;
    if !key.algorithms.contains(&alg) || !ALGORITHMS.contains(&alg) {
        return false;
    }
    if jwt.ed25519_named {
        let (Some(public), Some((signed, signature))) = (&key.ed25519, token.rsplit_once('.'))
        else {
            return false;
        };
        let Ok(signature) = B64.decode(signature) else {
            return false;
        };
        return aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ED25519,
            public,
        )
        .verify(signed.as_bytes(), &signature)
        .is_ok();
    }
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn private_symmetric_and_weak_keys_are_refused() {
        let ec = json!({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let key = parse_jwk(&ec).unwrap();
        assert_eq!(key.algorithms, [Algorithm::ES256]);
        let mut private = ec.clone();
        private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
        assert!(
            parse_jwk(&private)
                .unwrap_err()
                .contains("private member `d`")
        );
        assert!(
            parse_jwk(&json!({"kty":"oct","k":"AAAA"}))
                .unwrap_err()
                .contains("private")
        );
        let mut wrong_alg = ec.clone();
        wrong_alg["alg"] = json!("RS256");
        assert!(parse_jwk(&wrong_alg).is_err());
        let small_rsa = json!({"kty":"RSA","n":"AQAB","e":"AQAB"});
        assert!(parse_jwk(&small_rsa).unwrap_err().contains("2048"));
    }

    #[test]
    fn rsa_keys_over_4096_bits_are_refused() {
        let rsa =
            |bytes: usize| json!({"kty":"RSA","n": B64.encode(vec![0xc5u8; bytes]),"e":"AQAB"});
        let huge = parse_jwk(&rsa(1024)).unwrap_err();
        assert!(
            huge.contains("at most 4096 bits (this one: 8192)"),
            "{huge}"
        );
        assert!(parse_jwk(&rsa(513)).unwrap_err().contains("4096"));
        // A leading zero octet is not a bit more.
        let mut padded = vec![0u8];
        padded.extend(vec![0xc5u8; 512]);
        let padded = json!({"kty":"RSA","n": B64.encode(padded),"e":"AQAB"});
        for ok in [rsa(512), rsa(256), padded] {
            assert!(
                parse_jwk(&ok)
                    .as_ref()
                    .map_err(|e| e.contains("bits"))
                    .err()
                    != Some(true),
                "{ok}"
            );
        }
        // Remote key sets keep their usable keys and report the rest.
        let (usable, problems) = usable_keys(&json!({"keys": [rsa(1024)]}));
        assert!(usable.0.is_empty());
        assert!(problems[0].contains("at most 4096"), "{problems:?}");
    }

    #[test]
    fn keys_published_for_encryption_do_not_verify() {
        let ec = json!({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let with = |name: &str, value: Value| {
            let mut k = ec.clone();
            k[name] = value;
            k
        };
        assert!(parse_jwk(&with("use", json!("sig"))).is_ok());
        assert!(parse_jwk(&with("key_ops", json!(["verify"]))).is_ok());
        assert!(parse_jwk(&with("use", json!("enc"))).is_err());
        assert!(parse_jwk(&with("key_ops", json!(["encrypt"]))).is_err());
        let set = json!({"keys": [with("use", json!("enc")), with("kid", json!("s"))]});
        let (usable, problems) = usable_keys(&set);
        assert_eq!(usable.0.len(), 1);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn a_jws_is_peeked_only_when_it_has_three_parts() {
        assert!(peek("a.b").is_none());
        assert!(peek("not a token").is_none());
        let header = B64.encode(r#"{"alg":"ES256","crit":["x"]}"#);
        let payload = B64.encode(r#"{"iss":"c"}"#);
        let seen = peek(&format!("{header}.{payload}.sig")).unwrap();
        assert!(seen.raw_header.contains_key("crit"));
        assert_eq!(seen.claims["iss"], "c");
    }
}
