//! `none` (OpenID Connect Core §9, RFC 6749 §2.1): a public client, one
//! that cannot keep a secret (a browser app, a native app, an MCP client
//! on a laptop), sends only its `client_id`; the PKCE verifier and, for a
//! refresh, the DPoP key are what hold it to its grant. A `client_id`
//! alone that names no enabled public client fails like any other
//! authentication: throttled, after the same Argon2 work, with the one
//! `invalid_client` body.

use std::sync::Arc;

use super::super::client::{Client, MAX_CLIENT_ID_LEN};
use super::super::error::{Challenge, OAuthError};
use super::super::ports::{Context, Ports};
use super::super::refusal::{Reason, Refusal};
use super::secret;

/// A `client_id` sent with no credential.
#[derive(Debug, Clone)]
pub struct Presented {
    pub client_id: String,
}

/// The public client `presented` names, or the refusal every failed
/// authentication gets.
pub(crate) async fn authenticate<P: Ports>(
    presented: &Presented,
    cx: &Context<'_>,
    ports: &P,
) -> Result<Arc<Client>, Refusal> {
    let id = presented.client_id.as_str();
    let found = (id.len() <= MAX_CLIENT_ID_LEN)
        .then(|| cx.registry.client(id))
        .flatten();
    let reason = match found {
        Some(client) if client.public && client.enabled => return Ok(client.clone()),
        Some(client) if client.public => Reason::DisabledClient,
        // A confidential client must prove itself: its id alone is no
        // credential.
        Some(_) => Reason::NoCredentials,
        None if id.len() > MAX_CLIENT_ID_LEN => Reason::ClientIdTooLong,
        None => Reason::UnknownClient,
    };
    // The work a wrong secret costs, so the time of this failure says
    // nothing about which ids exist or which are public.
    let (registry, services, address) = (cx.registry.clone(), cx.services.clone(), cx.address);
    let throttled_id = if reason == Reason::ClientIdTooLong {
        String::new()
    } else {
        id.to_owned()
    };
    let outcome = ports
        .slow(move || {
            services
                .throttle
                .attempt(
                    <Client as secret::SecretHolder>::KIND,
                    &throttled_id,
                    address,
                )
                .map_err(|wait| Refusal::new(OAuthError::throttled(wait), Reason::Throttled))?;
            services.secrets.count_argon2(0.0);
            secret::burn(&services, registry.failure_work());
            Ok(())
        })
        .await;
    match outcome {
        Ok(Ok(())) => Err(Refusal::client(reason, Challenge::None)),
        Ok(Err(throttled)) => Err(throttled),
        Err(_) => Err(Refusal::server_error(Reason::Internal)),
    }
}
