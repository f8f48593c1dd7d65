//! The authorization code grant's token request (RFC 6749 §4.1.3, OAuth
//! 2.1, RFC 7636): the code opens with the sealing key, is the client's,
//! has not expired, names the same redirect URI, and its PKCE challenge
//! is met; the person still stands and the client still admits her; and
//! it is used once. A second use revokes the refresh tokens issued from
//! the first (RFC 6749 §4.1.2: the code was stolen, or the client leaks).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::super::client::{Client, GrantType};
use super::super::code::CodeGrant;
use super::super::params::Params;
use super::super::people::OFFLINE_ACCESS;
use super::super::ports::{Context, Ports};
use super::super::refusal::{Reason, Refusal};
use super::super::sealed::Purpose;
use super::signed_in::{PersonGrant, Session, Use, person_stands, used_first};

/// Redeems the code of the request for `client` (authenticated already).
/// `jkt`: the DPoP key the request proved, if any.
pub(crate) async fn grant<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    client: Arc<Client>,
    params: &Params,
    jkt: Option<&str>,
) -> Result<PersonGrant, Refusal> {
    let sealed = params
        .get("code")
        .ok_or_else(|| Refusal::invalid_request(Reason::MissingParameter, "code is missing"))?;
    let refuse = |reason| Refusal::invalid_grant(reason, "the code is invalid, expired or used");
    let code: CodeGrant = cx
        .sealing
        .and_then(|key| key.open(Purpose::Code, sealed))
        .ok_or(refuse(Reason::InvalidCode))?;
    if code.client_id != client.id.as_str() {
        return Err(refuse(Reason::CodeClientMismatch));
    }
    let now = cx.now.unix_timestamp();
    if code.exp <= now {
        return Err(refuse(Reason::CodeExpired));
    }
    if params.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
        return Err(refuse(Reason::RedirectUriMismatch));
    }
    if !pkce_holds(params.get("code_verifier"), &code.code_challenge) {
        return Err(refuse(Reason::PkceFailed));
    }
    person_stands(cx, &client, &code.sub, code.auth_time)?;
    let lifetime = i64::try_from(client.refresh_token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let one = Use::Code {
        id: &code.id,
        until: code.exp.saturating_add(60),
    };
    // Revoked for as long as any refresh token of the first use could live.
    let family_until = now.saturating_add(lifetime);
    if !used_first(
        ports,
        &code.id,
        family_until,
        one,
        client.id.as_str(),
        cx.now,
    )
    .await?
    {
        return Err(refuse(Reason::CodeReplayed));
    }
    let session = Session {
        family: code.id,
        turn: 0,
        client_id: code.client_id,
        sub: code.sub,
        auth_time: code.auth_time,
        scope: String::new(),
        resources: code.resources,
        family_exp: code.auth_time.saturating_add(lifetime),
        jkt: jkt.map(str::to_owned),
        claims: code.claims,
        sid: code.sid,
    };
    let mut granted = session.grant(cx, client, &code.scope)?;
    // What the refresh tokens may ask for again: what was granted now.
    granted.session.scope = granted.grant.scopes.to_string();
    granted.nonce = code.nonce;
    granted.refresh = granted
        .grant
        .scopes
        .iter()
        .any(|s| s.as_str() == OFFLINE_ACCESS)
        && granted
            .grant
            .client
            .grant_types
            .contains(&GrantType::RefreshToken);
    Ok(granted)
}

/// RFC 7636 §4.1 and §4.6: a verifier of 43 to 128 unreserved characters
/// whose SHA-256, base64url, is the challenge; compared in constant time.
pub(crate) fn pkce_holds(verifier: Option<&str>, challenge: &str) -> bool {
    let Some(verifier) = verifier else {
        return false;
    };
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
        return false;
    }
    let computed = B64.encode(tollgate_jose::digest::sha256(verifier.as_bytes()));
    aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_is_rfc_7636_s256() {
        // A verifier and its S256 challenge: BASE64URL(SHA-256(verifier)).
        let verifier = "dBjftJeZ4CVP-mJ92K9xGtbkgsegutpXQlyTO0Czk5M";
        let challenge = "nMwaK9ksfpJeF6qBTnt6E6K7E9hriC-s2Y3yUO5mJSg";
        assert!(pkce_holds(Some(verifier), challenge));
        assert!(!pkce_holds(None, challenge));
        assert!(!pkce_holds(Some(&verifier[..42]), challenge), "too short");
        assert!(!pkce_holds(Some(challenge), challenge), "plain");
        let with_space = format!("{} ", &verifier[..43]);
        assert!(!pkce_holds(Some(&with_space), challenge));
    }
}
