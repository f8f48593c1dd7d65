//! OpenID Connect Back-Channel Logout 1.0: who is told that a session
//! ended, and what they are told. The clients of the session (those a code
//! was issued to in it) that are still in the file, enabled, and have a
//! `backchannel_logout_uri` each get a logout token (§2.4): `iss`, `aud`
//! the client, `iat`, `exp`, `jti`, `sub`, `sid` and the logout event, and
//! never a `nonce` (so that it cannot pass for an id token). Signed as
//! `TokenKind::Logout` (`typ` `logout+jwt`) by the keys of every token;
//! delivering it is the server's IO.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use url::Url;

use super::access_token::new_jti;
use super::client::Client;
use super::registry::Registry;
use super::session::Session;

/// How long a logout token is valid, in seconds: a receiver refuses it
/// later, and a delivery gives up long before.
pub const LOGOUT_TOKEN_LIFETIME: i64 = 120;

/// The `events` member that makes a JWT a logout token (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A client to tell that the session ended, and where.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub client: Arc<Client>,
    pub uri: Url,
}

/// The clients of `session` to tell, as the file says now: a code was
/// issued to each in this session, and it is still in the file, enabled,
/// with a `backchannel_logout_uri`. A client named by a URL has none.
pub fn recipients(registry: &Registry, session: &Session) -> Vec<Recipient> {
    if session.clients.is_empty() {
        return Vec::new();
    }
    registry
        .clients()
        .filter(|c| c.enabled)
        .filter_map(|c| {
            let uri = c.backchannel_logout_uri.clone()?;
            session.has_signed_in_to(c.id.as_str()).then(|| Recipient {
                client: c.clone(),
                uri,
            })
        })
        .collect()
}

/// What a logout token says.
#[derive(Debug, Clone, Copy)]
pub struct LogoutToken<'a> {
    /// Our issuer identifier.
    pub issuer: &'a str,
    /// The client told: `aud`.
    pub client_id: &'a str,
    /// The person whose session ended.
    pub sub: &'a str,
    /// The session, as her id tokens named it.
    pub sid: &'a str,
    /// Unix seconds: `iat`.
    pub now: i64,
}

/// The logout token's claims, serialized, with a fresh `jti`.
pub fn claims(token: &LogoutToken<'_>) -> Vec<u8> {
    let mut events = Map::new();
    events.insert(BACKCHANNEL_LOGOUT_EVENT.to_owned(), json!({}));
    let claims = json!({
        "iss": token.issuer,
        "aud": token.client_id,
        "iat": token.now,
        "exp": token.now.saturating_add(LOGOUT_TOKEN_LIFETIME),
        "jti": new_jti(),
        "sub": token.sub,
        "sid": token.sid,
        "events": Value::Object(events),
    });
    serde_json::to_vec(&claims).expect("a JSON object serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> LogoutToken<'static> {
        LogoutToken {
            issuer: "https://id.example",
            client_id: "web",
            sub: "alice",
            sid: "s-1",
            now: 1_000,
        }
    }

    #[test]
    fn a_logout_token_has_the_claims_of_section_2_4_and_no_nonce() {
        let claims: Map<String, Value> = serde_json::from_slice(&claims(&token())).unwrap();
        assert_eq!(claims["iss"], "https://id.example");
        assert_eq!(claims["aud"], "web");
        assert_eq!(claims["iat"], 1_000);
        assert_eq!(claims["exp"], 1_120);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["sid"], "s-1");
        assert_eq!(
            claims["events"],
            json!({"http://schemas.openid.net/event/backchannel-logout": {}})
        );
        assert!(!claims.contains_key("nonce"));
        let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"]
        );
    }

    #[test]
    fn each_logout_token_has_its_own_jti() {
        let jti = |bytes: Vec<u8>| {
            let claims: Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
            claims["jti"].as_str().unwrap().to_owned()
        };
        let (a, b) = (jti(claims(&token())), jti(claims(&token())));
        assert!(a.len() >= 16, "{a}");
        assert_ne!(a, b);
    }
}
