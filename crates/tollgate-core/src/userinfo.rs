//! The UserInfo endpoint (OpenID Connect Core §5.3): one of our access
//! tokens, for a person, with `openid`, presented as RFC 6750 Bearer or,
//! when it is bound, as RFC 9449 DPoP with a proof of its key; the answer
//! is `sub` and the claims of the token's identity scopes — for a user of
//! the file as the file says now. A provider's person's claims are not
//! in her access token, so she gets `sub` alone for now.

use serde_json::{Map, Value};

use super::grants::signed_in::revoked_key;
use super::people::OPENID;
use super::person::{self, person_claims};
use super::ports::{Context, Ports};
use super::scope::ScopeSet;
use super::standing::{OwnTokens, own_token_standing};
use tollgate_jose::dpop;

/// What the HTTP adapter hands over.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub authorization: Option<&'a str>,
    /// Every `DPoP` header the request carried.
    pub dpop: &'a [&'a [u8]],
    /// `GET` or `POST`: the proof's `htm`.
    pub method: &'a str,
    /// This endpoint's URL as clients reach it: the proof's `htu`.
    pub url: &'a str,
}

/// Why the endpoint did not answer (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// 401 `invalid_token`: missing, not ours, expired, revoked, no longer
    /// standing, or a bound token without a proof of its key.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`: not a person's token with `openid`.
    InsufficientScope,
    /// 503: the replay store cannot say whether the token was revoked.
    Unavailable,
}

/// The claims about the person the token is for.
pub async fn userinfo<P: Ports + OwnTokens>(
    cx: &Context<'_>,
    ports: &P,
    request: Request<'_>,
) -> Result<Map<String, Value>, Refused> {
    let (scheme, token) = request
        .authorization
        .and_then(|h| h.trim().split_once(' '))
        .map(|(scheme, token)| (scheme.to_ascii_lowercase(), token.trim()))
        .ok_or(Refused::InvalidToken(
            "send the access token in Authorization",
        ))?;
    let invalid = Refused::InvalidToken("the access token is invalid, expired or revoked");
    let claims = ports.claims(token, cx.now).await.ok_or(invalid.clone())?;
    own_token_standing(cx, &claims).map_err(|_| invalid.clone())?;
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
    if ports
        .used(revoked_key(jti), cx.now)
        .await
        .map_err(|_| Refused::Unavailable)?
    {
        return Err(invalid);
    }
    let jkt = claims
        .get("cnf")
        .and_then(|c| c.get("jkt"))
        .and_then(Value::as_str);
    match (scheme.as_str(), jkt) {
        ("bearer", None) => {}
        ("dpop", Some(jkt)) => proven(cx, ports, request, token, jkt).await?,
        _ => {
            return Err(Refused::InvalidToken(
                "a DPoP-bound token is sent as DPoP with a proof, any other as Bearer",
            ));
        }
    }
    let scopes: ScopeSet = claims
        .get("scope")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let is_person = claims.contains_key("auth_time");
    if !is_person || !scopes.iter().any(|s| s.as_str() == OPENID) {
        return Err(Refused::InsufficientScope);
    }
    let user = match person::from_provider(sub) {
        true => None,
        false => cx.registry.user(sub).map(|u| &**u),
    };
    let mut out = match user {
        Some(user) => person_claims(cx.registry, Some(user), None, &scopes),
        // A provider's person: what her access token carries, as copied at
        // sign-in (there is no file to read her from).
        None if person::from_provider(sub) => {
            person_claims(cx.registry, None, Some(&claims), &scopes)
        }
        None => Map::new(),
    };
    out.insert("sub".into(), Value::String(sub.to_owned()));
    Ok(out)
}

/// RFC 9449 §7: one proof, for this request, of the token's key, over
/// this token (`ath`), used once.
async fn proven<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    request: Request<'_>,
    token: &str,
    jkt: &str,
) -> Result<(), Refused> {
    let refused = Refused::InvalidToken("the DPoP proof does not hold for this token");
    let [proof] = request.dpop else {
        return Err(refused);
    };
    let proof = std::str::from_utf8(proof).map_err(|_| refused.clone())?;
    let checked = dpop::verify(proof, request.method, request.url, cx.now.unix_timestamp())
        .map_err(|_| refused.clone())?;
    if checked.jkt != jkt || checked.ath.as_deref() != Some(dpop::ath(token).as_str()) {
        return Err(refused);
    }
    let key = tollgate_jose::digest::sha256_parts([
        b"dpop".as_slice(),
        checked.jkt.as_bytes(),
        checked.jti.as_bytes(),
    ]);
    let until = time::OffsetDateTime::from_unix_timestamp(checked.iat + dpop::WINDOW + 30)
        .map_err(|_| refused.clone())?;
    match ports.first_use(key, jkt, until, cx.now).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused),
        Err(_) => Err(Refused::Unavailable),
    }
}
