//! Whether one of tollgate's own tokens still stands in the file in
//! force: the rule introspection answers by and token exchange applies to
//! its subject tokens, so that a token one refuses the other refuses too.
//! A token is as good as every client it stands on: its client, its
//! subject, each actor of its `act` chain; a person's token (it has
//! `auth_time`) on its client and on her.

use std::future::Future;

use serde_json::{Map, Value};

use super::grant::MAX_ACTORS;
use super::ports::Context;
use super::refusal::Reason;

/// Verifies the signature of one of our own tokens against the keys
/// published now, and returns its claims.
pub trait OwnTokens: Sync {
    fn claims(
        &self,
        token: &str,
        now: time::OffsetDateTime,
    ) -> impl Future<Output = Option<Map<String, Value>>> + Send;
}

/// Whether one of our tokens (its signature already checked) still stands
/// in the file in force: not expired, ours, and every client it stands
/// on present, enabled, and its `tokens_valid_after` at or before the
/// token's `iat` — its client, its subject (unless `sub_id` names a
/// trusted issuer's subject: that issuer must still be trusted) and each
/// actor of its `act` chain that is ours. So revoking a caller revokes
/// what was made from its tokens. Shared by introspection and token
/// exchange, so a token one refuses the other refuses too.
pub(crate) fn own_token_standing(
    cx: &Context<'_>,
    claims: &Map<String, Value>,
) -> Result<(), Reason> {
    let now = cx.now.unix_timestamp();
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(cx.issuer) {
        return Err(Reason::InvalidSubjectToken);
    }
    if number("exp").is_none_or(|exp| exp <= now) {
        return Err(Reason::SubjectTokenExpired);
    }
    let iat = number("iat");
    let stands = |id: Option<&str>| -> Result<(), Reason> {
        let client = id
            .and_then(|id| cx.registry.client(id))
            .ok_or(Reason::SubjectClientInactive)?;
        if !client.enabled {
            return Err(Reason::SubjectClientInactive);
        }
        if let Some(after) = client.tokens_valid_after
            && iat.is_none_or(|iat| iat < after.unix_timestamp())
        {
            return Err(Reason::SubjectTokenRevoked);
        }
        Ok(())
    };
    stands(text("client_id"))?;
    if claims.contains_key("auth_time") {
        // A person's token: she stands since its `iat` (a provider's
        // person, who is not in the file, as long as it lives).
        let sub = text("sub").ok_or(Reason::SubjectClientInactive)?;
        let iat = iat.ok_or(Reason::SubjectTokenRevoked)?;
        return super::person::standing(cx.registry, sub, iat)
            .map(|_| ())
            .map_err(|_| Reason::PersonInactive);
    }
    match foreign_subject_issuer(claims, cx.issuer) {
        Some(iss) if cx.registry.trusted_issuer(iss).is_none() => {
            return Err(Reason::SubjectClientInactive);
        }
        Some(_) => {}
        None => stands(text("sub"))?,
    }
    let mut act = claims.get("act");
    let mut depth = 0;
    while let Some(level) = act {
        depth += 1;
        if depth > MAX_ACTORS {
            return Err(Reason::ActChainTooDeep);
        }
        // From here on the actors are a trusted issuer's (the exchange
        // marked where its chain began).
        if level
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|iss| iss != cx.issuer)
        {
            break;
        }
        stands(level.get("sub").and_then(Value::as_str))?;
        act = level.get("act");
    }
    Ok(())
}

/// The issuer of a trusted issuer's subject the token names in `sub_id`
/// (RFC 9493 `iss_sub`); `None`: the subject is ours.
pub(crate) fn foreign_subject_issuer<'a>(
    claims: &'a Map<String, Value>,
    ours: &str,
) -> Option<&'a str> {
    let id = claims.get("sub_id")?;
    if id.get("format").and_then(Value::as_str) != Some("iss_sub") {
        return None;
    }
    id.get("iss")
        .and_then(Value::as_str)
        .filter(|iss| *iss != ours)
}
