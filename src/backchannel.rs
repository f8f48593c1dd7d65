//! Back-channel logout's deliveries (OpenID Connect Back-Channel Logout
//! 1.0 §2.5): when a session ends, each client the core names
//! (`tollgate_core::logout_token::recipients`) gets its own logout token,
//! signed as every token is (`Ports::sign`, `typ` `logout+jwt`), POSTed
//! as `application/x-www-form-urlencoded` `logout_token=…` to its
//! `backchannel_logout_uri`. In the background: the browser's answer waits
//! for none of them. Through the server's outgoing client (the JWKS
//! cache's: no redirect followed, its roots), [`DELIVERY_TIMEOUT`] each.
//! Each delivery is an audit line and a count by outcome; none is retried
//! (the receiver may have acted on a token that timed out).

use std::sync::Arc;
use std::time::Duration;

use tollgate_core::logout_token::{self, LogoutToken, Recipient};
use tollgate_core::session::Session;
use tollgate_core::{Ports, Registry, TokenKind};

use crate::observe::audit;
use crate::state::AppState;

/// How long one delivery may take in all (connection, request, answer).
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The receiver answered 2xx (§2.8: 200, or 204 from some frameworks).
    Delivered,
    /// It answered with this other status (a redirect is not followed).
    Refused(u16),
    /// No answer within [`DELIVERY_TIMEOUT`], or no connection.
    Unreachable,
    /// No key could sign the token (a key in hardware away, say).
    NotSigned,
}

impl Delivery {
    /// The outcome's name, for the audit line and the metric's label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Refused(_) => "refused",
            Self::Unreachable => "unreachable",
            Self::NotSigned => "not_signed",
        }
    }
}

/// Tells the clients of `session` (ended now) that it ended, each in a
/// task of its own; returns how many are told. `issuer` is ours.
pub(crate) fn announce(
    state: &Arc<AppState>,
    registry: &Registry,
    issuer: &str,
    session: &Session,
) -> usize {
    let recipients = logout_token::recipients(registry, session);
    let told = recipients.len();
    for recipient in recipients {
        let state = state.clone();
        let issuer = issuer.to_owned();
        let (sub, sid) = (session.sub.clone(), session.sid.clone());
        tokio::spawn(async move {
            let (delivery, why) = deliver(&state, &issuer, &recipient, &sub, &sid).await;
            let status = match delivery {
                Delivery::Refused(status) => Some(status),
                _ => None,
            };
            audit::backchannel_logout(
                recipient.client.id.as_str(),
                &sub,
                delivery.as_str(),
                status,
                &why,
            );
            state.metrics.backchannel_logout(delivery.as_str());
        });
    }
    told
}

/// One client's logout token, signed and POSTed: the outcome, and what
/// went wrong in words (empty when delivered).
async fn deliver(
    state: &AppState,
    issuer: &str,
    recipient: &Recipient,
    sub: &str,
    sid: &str,
) -> (Delivery, String) {
    let now = state.clock.now();
    let claims = logout_token::claims(&LogoutToken {
        issuer,
        client_id: recipient.client.id.as_str(),
        sub,
        sid,
        now: now.unix_timestamp(),
    });
    let Ok(token) = state.sign(claims, TokenKind::Logout, now).await else {
        return (Delivery::NotSigned, "no key could sign it".into());
    };
    let sent = state
        .remote_keys
        .http()
        .post(recipient.uri.clone())
        .timeout(DELIVERY_TIMEOUT)
        .form(&[("logout_token", token.as_str())])
        .send()
        .await;
    match sent {
        Ok(answer) if answer.status().is_success() => (Delivery::Delivered, String::new()),
        Ok(answer) => {
            let status = answer.status();
            (
                Delivery::Refused(status.as_u16()),
                format!("answered {status}"),
            )
        }
        Err(e) => (Delivery::Unreachable, tollgate_resource::jwks::describe(&e)),
    }
}
