//! The audit trail: one event per token request, issued or refused, under
//! the `tollgate::audit` target (filter it with `TOLLGATE_LOG`, e.g.
//! `info,tollgate::audit=off`). Fields: outcome, client id (as sent,
//! escaped unless printable ASCII), scopes, jti, expiry, RFC 6749 error,
//! reason, source address. Never a secret: the credentials' secret is not among
//! the fields, and there is no way to add it.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::token::IssuedToken;

/// What is known of a token request by the time it is answered.
#[derive(Debug, Default)]
pub struct Attempt {
    /// The client id the request claimed, once parsed.
    pub client_id: Option<String>,
    /// Why it was refused, when more precise than the error code
    /// (`unknown_client`, `wrong_secret`, `throttled`, ...).
    pub reason: Option<&'static str>,
}

pub fn issued(client_id: &str, token: &IssuedToken, address: Option<IpAddr>) {
    tracing::info!(
        target: "tollgate::audit",
        outcome = "issued",
        client_id = %printable(client_id),
        scope = token.scope,
        jti = token.jti,
        expires_in = token.expires_in,
        address = address.map(tracing::field::display),
        "token issued"
    );
}

pub fn refused(attempt: &Attempt, error: &str, address: Option<IpAddr>) {
    tracing::info!(
        target: "tollgate::audit",
        outcome = "refused",
        client_id = attempt.client_id.as_deref().map(|c| tracing::field::display(printable(c))),
        error,
        reason = attempt.reason.unwrap_or(error),
        address = address.map(tracing::field::display),
        "token refused"
    );
}

/// A client id as sent, safe for a log line: printable ASCII as is,
/// anything else (spaces, quotes, control characters, non-ASCII) escaped.
fn printable(id: &str) -> Cow<'_, str> {
    if id
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        Cow::Borrowed(id)
    } else {
        Cow::Owned(id.escape_default().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_cannot_forge_log_lines() {
        assert_eq!(printable("client-1"), "client-1");
        assert_eq!(printable("a\nINFO fake"), "a\\nINFO fake");
        assert!(!printable("a\r\nb").contains('\n'));
        assert_eq!(printable("say \"hi\""), "say \\\"hi\\\"");
    }
}
