//! `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): the client signs an
//! assertion with its own key. `iss` = `sub` = the client id; `aud` holds
//! our issuer or the token endpoint; `exp` required, at most an hour
//! away; `jti` required and used once until `exp`. The keys are the
//! client's `jwks` or `jwks_file` (from the file) or `jwks_uri` (fetched,
//! and fetched again for an unknown `kid`, as the outside allows).

use std::sync::Arc;

use super::super::client::Client;
use super::super::ports::{Context, Ports};
use super::super::refusal::Reason;
use super::assertion::{
    LEEWAY, Presented, check_header, check_sole_audience, check_times, plausible_client_id,
    signed_by, string_claim,
};
use super::keys::{current_keys, has_kid};
use tollgate_jose::replay::ReplayError;

/// An assertion is valid for at most this long (Okta's limit, Authlib's
/// default).
const MAX_LIFETIME: i64 = 3600;

/// The client the assertion proves, or why not.
pub(super) async fn authenticate<P: Ports>(
    presented: &Presented,
    cx: &Context<'_>,
    ports: &P,
) -> Result<Arc<Client>, Reason> {
    let claims = &presented.jwt.claims;
    let iss = plausible_client_id(string_claim(claims, "iss")?)?;
    if string_claim(claims, "sub")? != iss {
        return Err(Reason::WrongIssuer);
    }
    if presented.client_id.as_deref().is_some_and(|id| id != iss) {
        return Err(Reason::ClientIdMismatch);
    }
    let alg = check_header(&presented.jwt)?;
    let client = cx.registry.client(iss).ok_or(Reason::UnknownClient)?;
    if !client.enabled {
        return Err(Reason::DisabledClient);
    }
    let keys = current_keys(
        &client.keys,
        has_kid(presented.jwt.header.kid.as_deref()),
        ports,
    )
    .await?;
    ports.timed(|| signed_by(&presented.token, &presented.jwt, alg, &keys))?;
    check_sole_audience(claims, &[cx.issuer, cx.token_endpoint])?;
    let now = cx.now.unix_timestamp();
    let exp = check_times(claims, now, MAX_LIFETIME)?;
    let jti = string_claim(claims, "jti")?;
    let key = tollgate_jose::digest::sha256_parts([
        b"private_key_jwt".as_slice(),
        iss.as_bytes(),
        jti.as_bytes(),
    ]);
    let until = time::OffsetDateTime::from_unix_timestamp(exp + LEEWAY)
        .map_err(|_| Reason::MalformedAssertion)?;
    match ports
        .first_use(key, client.id.as_str(), until, cx.now)
        .await
    {
        Ok(true) => Ok(client.clone()),
        Ok(false) => Err(Reason::AssertionReplayed),
        Err(ReplayError::OverQuota) => Err(Reason::ReplayQuotaExceeded),
        Err(ReplayError::Unavailable) => Err(Reason::ReplayStoreUnavailable),
    }
}
