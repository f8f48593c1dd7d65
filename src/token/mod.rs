//! RFC 9068 access tokens: the claims of a grant, signed. Time is passed in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;

use crate::keys::{KeyError, SigningKey};
use crate::oauth::Grant;

/// An issued token and what the token response says about it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
    pub jti: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    client_id: &'a str,
    aud: Audience<'a>,
    scope: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: &'a str,
    #[serde(flatten)]
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

/// A fresh `jti`: 128 random bits, base64url.
fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random source");
    B64.encode(bytes)
}

/// Mints the access token for `grant`. `now` is Unix seconds.
pub fn mint(
    grant: &Grant,
    issuer: &str,
    key: &SigningKey,
    now: i64,
) -> Result<IssuedToken, KeyError> {
    let client = &grant.client;
    let lifetime = client.access_token_lifetime.as_secs();
    let scope = grant.scopes.to_string();
    let jti = new_jti();
    // RFC 9068 §3 requires `aud`; with no API resource granted, the
    // issuer's resources URI stands for "any API of this issuer".
    let default_aud;
    let aud = match grant.audiences.as_slice() {
        [] => {
            default_aud = format!("{issuer}/resources");
            Audience::One(&default_aud)
        }
        [one] => Audience::One(one),
        many => Audience::Many(many),
    };
    let claims = Claims {
        iss: issuer,
        sub: client.id.as_str(),
        client_id: client.id.as_str(),
        aud,
        scope: &scope,
        iat: now,
        nbf: now,
        exp: now.saturating_add(lifetime as i64),
        jti: &jti,
        extra: &client.claims,
    };
    let json = serde_json::to_vec(&claims).map_err(|e| KeyError::Unusable(e.to_string()))?;
    Ok(IssuedToken {
        access_token: key.sign_jwt(&json)?,
        expires_in: lifetime,
        scope,
        jti,
    })
}
