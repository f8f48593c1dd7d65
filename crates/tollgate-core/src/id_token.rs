//! OpenID Connect id tokens (Core §2, §3.1.3.6): who signed in, for which
//! client, when, and the claims of her granted identity scopes. Signed by
//! the same keys as access tokens, with `typ` `JWT` so that one is never
//! taken for the other. It lives [`ID_TOKEN_LIFETIME`]: a client reads it
//! once, at sign-in (or at a refresh), and keeps what it needs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value};

use super::person::Person;

/// How long an id token is valid, in seconds.
pub const ID_TOKEN_LIFETIME: i64 = 300;

/// What an id token says beyond its person's claims.
pub(crate) struct IdToken<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub person: &'a Person,
    pub now: i64,
    /// The authorization request's `nonce` (never at a refresh).
    pub nonce: Option<&'a str>,
    /// The access token issued with it: `at_hash`.
    pub access_token: &'a str,
    /// The browser session she signed in with (Front- and Back-Channel
    /// Logout §2.1 / §3): a logout token names it. `None` for a code or a
    /// refresh token sealed before sessions were carried.
    pub sid: Option<&'a str>,
}

/// The id token's claims, serialized: the registered ones over the
/// person's (which can never replace them).
pub(crate) fn claims(token: &IdToken<'_>, person_claims: Map<String, Value>) -> Vec<u8> {
    let mut claims = person_claims;
    // Said only when this sign-in has them; never a person's own.
    claims.remove("nonce");
    claims.remove("sid");
    let mut set = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    set("iss", token.issuer.into());
    set("sub", token.person.sub.as_str().into());
    set("aud", token.client_id.into());
    set("iat", token.now.into());
    set("exp", token.now.saturating_add(ID_TOKEN_LIFETIME).into());
    set("auth_time", token.person.auth_time.into());
    set("at_hash", at_hash(token.access_token).into());
    if let Some(nonce) = token.nonce {
        set("nonce", nonce.into());
    }
    if let Some(sid) = token.sid {
        set("sid", sid.into());
    }
    serde_json::to_vec(&claims).expect("a JSON map serializes")
}

/// Core §3.1.3.6: the left half of the SHA-256 of the access token's
/// ASCII, base64url (our keys' algorithms all hash with SHA-256 but
/// EdDSA, for which SHA-256 is what clients of this server expect too).
pub fn at_hash(access_token: &str) -> String {
    let digest = tollgate_jose::digest::sha256(access_token.as_bytes());
    B64.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_tokens_sha_256() {
        // Computed apart: base64url(sha256(token)[..16]).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNdcGyOdFmGhvSr24k3kv"),
            "sFuQ6ApiDNCdvYD5hZqc2g"
        );
    }

    #[test]
    fn a_persons_claims_never_replace_the_registered_ones() {
        let person = Person {
            sub: "alice".into(),
            auth_time: 10,
        };
        let mut mine = Map::new();
        mine.insert("sub".into(), "mallory".into());
        mine.insert("nonce".into(), "forged".into());
        mine.insert("sid".into(), "forged".into());
        mine.insert("name".into(), "Alice".into());
        let token = IdToken {
            issuer: "https://id.example",
            client_id: "web",
            person: &person,
            now: 100,
            nonce: None,
            access_token: "x",
            sid: None,
        };
        let claims: Map<String, Value> = serde_json::from_slice(&claims(&token, mine)).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], "web");
        assert_eq!(claims["exp"], 400);
        assert_eq!(claims["name"], "Alice");
        assert!(!claims.contains_key("nonce"));
        assert!(!claims.contains_key("sid"));
    }

    #[test]
    fn the_session_is_the_sid_claim() {
        let person = Person {
            sub: "alice".into(),
            auth_time: 10,
        };
        let token = IdToken {
            issuer: "https://id.example",
            client_id: "web",
            person: &person,
            now: 100,
            nonce: None,
            access_token: "x",
            sid: Some("s-1"),
        };
        let claims: Map<String, Value> =
            serde_json::from_slice(&claims(&token, Map::new())).unwrap();
        assert_eq!(claims["sid"], "s-1");
    }
}
