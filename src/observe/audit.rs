//! The audit trail: one event per token or introspection request, issued
//! or refused, under the `tollgate::audit` target (filter it with
//! `TOLLGATE_LOG`, e.g. `info,tollgate::audit=off`). Fields: outcome,
//! client id (as sent, see [`untrusted`]), method, scopes, jti, expiry, RFC
//! error, reason (with a hint of what to do, where it needs one), source
//! address. Never a secret: the credentials' secret
//! is not among the fields, and there is no way to add it.

use std::fmt;
use std::net::IpAddr;

use tollgate_core::token_request::Issued;
use tollgate_core::{Reason, Refusal};

pub(crate) fn issued(issued: &Issued, address: Option<IpAddr>) {
    let Some(delegation) = &issued.delegation else {
        tracing::info!(
            target: "tollgate::audit",
            outcome = "issued",
            client_id = %untrusted(issued.client.id.as_str()),
            method = issued.method.as_str(),
            person = issued.person.as_ref().map(|p| tracing::field::display(untrusted(&p.sub))),
            token_type = issued.token_type.as_str(),
            scope = issued.scope,
            jti = issued.jti,
            expires_in = issued.expires_in,
            // Named only when one was issued: a client's line stays as it was.
            refresh_token = issued.refresh_token.is_some().then_some(true),
            address = address.map(tracing::field::display),
            "token issued"
        );
        return;
    };
    // A token exchange: for whom, the chain of actors (the client first),
    // and the APIs, so one line answers "who acted for whom, where".
    let actors: Vec<String> = delegation
        .actors()
        .into_iter()
        .map(|a| untrusted(a).to_string())
        .collect();
    tracing::info!(
        target: "tollgate::audit",
        outcome = "exchanged",
        client_id = %untrusted(issued.client.id.as_str()),
        method = issued.method.as_str(),
        subject = %untrusted(&delegation.subject),
        actors = actors.join(" < "),
        resources = issued.audiences.join(" "),
        token_type = issued.token_type.as_str(),
        scope = issued.scope,
        jti = issued.jti,
        expires_in = issued.expires_in,
        address = address.map(tracing::field::display),
        "token exchanged"
    );
}

/// An introspection answered (a refused one is audited like a token
/// request).
pub(crate) fn introspected(resource: &str, active: bool, address: Option<IpAddr>) {
    tracing::info!(
        target: "tollgate::audit",
        outcome = "introspected",
        resource = %untrusted(resource),
        active,
        address = address.map(tracing::field::display),
        "token introspected"
    );
}

pub(crate) fn revoked(
    client: &str,
    revoked: tollgate_core::revocation::Revoked,
    address: Option<IpAddr>,
) {
    use tollgate_core::revocation::Revoked;
    tracing::info!(
        target: "tollgate::audit",
        outcome = "revoked",
        client_id = %untrusted(client),
        revoked = match revoked {
            Revoked::RefreshFamily => "refresh_family",
            Revoked::AccessToken => "access_token",
            Revoked::Nothing => "nothing",
        },
        address = address.map(tracing::field::display),
        "token revocation"
    );
}

pub(crate) fn refused(refusal: &Refusal, claimed_id: Option<&str>, address: Option<IpAddr>) {
    tracing::info!(
        target: "tollgate::audit",
        outcome = "refused",
        client_id = claimed_id.map(|c| tracing::field::display(untrusted(c))),
        error = refusal.error.code.as_str(),
        reason = refusal.reason.as_str(),
        hint = refusal.reason.hint(),
        address = address.map(tracing::field::display),
        "token refused"
    );
}

/// A client named by a URL, looked up: its document accepted, or why
/// not (the person sees one page whatever the reason).
pub(crate) fn metadata_document(
    client_id: &str,
    outcome: &'static str,
    detail: &str,
    address: Option<IpAddr>,
) {
    tracing::info!(
        target: "tollgate::audit",
        outcome = "metadata_document",
        client_id = %untrusted(client_id),
        document = outcome,
        reason = (!detail.is_empty()).then(|| tracing::field::display(detail.escape_debug())),
        address = address.map(tracing::field::display),
        "client metadata document"
    );
}

/// A step of the browser flow (authorization, sign-in, consent): what
/// happened (`code`, `redirected` with an error, `refused` on a page,
/// `sign_in_failed`, `not_admitted`), for which client and person, and
/// why. Never a password: the sign-in's is not among the fields.
pub(crate) fn authorization(
    outcome: &'static str,
    client_id: Option<&str>,
    user: Option<&str>,
    reason: Option<Reason>,
    address: Option<IpAddr>,
) {
    tracing::info!(
        target: "tollgate::audit",
        outcome,
        client_id = client_id.map(|c| tracing::field::display(untrusted(c))),
        user = user.map(|u| tracing::field::display(untrusted(u))),
        reason = reason.map(Reason::as_str),
        address = address.map(tracing::field::display),
        "authorization"
    );
}

/// A sign-in through an upstream provider: `outcome` (`admitted`,
/// `refused`, `failed`), the provider, the person (`corp|sub`) when
/// known, and why, in words (a refused person's email domain, a
/// provider's failure; never a secret).
pub(crate) fn upstream(
    outcome: &'static str,
    provider: &str,
    user: Option<&str>,
    why: Option<&str>,
    address: Option<IpAddr>,
) {
    tracing::info!(
        target: "tollgate::audit",
        outcome,
        provider = %untrusted(provider),
        user = user.map(|u| tracing::field::display(untrusted(u))),
        // Our words, with at most a provider's value in them: kept
        // readable, control characters (a forged line) replaced.
        why = why.map(|w| w.replace(|c: char| c.is_control(), "?")),
        address = address.map(tracing::field::display),
        "upstream sign-in"
    );
}

/// A logout token sent to a client's `backchannel_logout_uri` when a
/// person signed out: `delivery` (`delivered`, `refused` with the HTTP
/// `status`, `unreachable`, `not_signed`) and why, in words (never the
/// token).
pub(crate) fn backchannel_logout(
    client_id: &str,
    user: &str,
    delivery: &'static str,
    status: Option<u16>,
    why: &str,
) {
    tracing::info!(
        target: "tollgate::audit",
        outcome = "backchannel_logout",
        client_id = %untrusted(client_id),
        user = %untrusted(user),
        delivery,
        status,
        why = (!why.is_empty()).then(|| why.replace(|c: char| c.is_control(), "?")),
        "back-channel logout"
    );
}

/// The most of an untrusted value a log line shows.
const SHOWN: usize = 64;

/// A value a request supplied (a client id, a claim of an assertion), safe
/// for a log line: printable ASCII as is, anything else (spaces, quotes,
/// control characters, non-ASCII) escaped, and at most [`SHOWN`]
/// characters of it, so that a request cannot forge a line or fill a
/// disk.
pub(crate) fn untrusted(value: &str) -> Untrusted<'_> {
    Untrusted(value)
}

pub(crate) struct Untrusted<'a>(&'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shown, c) in self.0.chars().enumerate() {
            if shown >= SHOWN {
                return write!(f, "…({} bytes)", self.0.len());
            }
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                fmt::Write::write_char(f, c)?;
            } else {
                write!(f, "{}", c.escape_default())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_values_cannot_forge_log_lines_or_flood_them() {
        let shown = |s: &str| untrusted(s).to_string();
        assert_eq!(shown("client-1"), "client-1");
        assert_eq!(shown("a\nINFO fake"), "a\\nINFO fake");
        assert!(!shown("a\r\nb").contains('\n'));
        assert_eq!(shown("say \"hi\""), "say \\\"hi\\\"");
        let long = shown(&"x".repeat(200_000));
        assert!(long.len() < 100, "{long}");
        assert!(long.ends_with("…(200000 bytes)"));
    }
}
