//! The authorization request around a sign-in at an upstream provider
//! (`[[login.providers]]`): the sign-in page's "Sign in with …" button
//! leaves with the sealed request (`departure`), and the provider's
//! verified answer comes back to it (`arrival`): the provider's rules
//! admit the person (a session for `<provider>|<sub>` with her claims,
//! then the request decided as after a password sign-in), or refuse her
//! (a page naming the rule, no code). The relying party between the two
//! (discovery, the code exchange, the id token's signature) is the
//! server's IO.

use serde_json::Value;

use super::super::ports::Context;
use super::super::refusal::Reason;
use super::super::registry::Registry;
use super::super::session::{Open, Session, SessionChange};
use super::super::upstream::Provider;
use super::{Answer, AuthRequest, Outcome, decide, page, pending};

/// Where a sign-in at a provider leaves from: the provider, and the
/// browser's CSRF value the pending request is bound to (the return
/// carries it in its own sealed cookie: a browser coming back from
/// another site sends no `SameSite=Strict` cookie).
#[derive(Debug, Clone)]
pub struct Departure {
    pub provider: std::sync::Arc<Provider>,
    pub csrf: String,
}

/// The way out to a provider (the adapter's route naming provider `name`
/// and carrying the pending request): whether this
/// browser may leave for provider `name` with this request — the request
/// is ours, unexpired and bound to the browser's CSRF cookie `csrf`, the
/// provider is declared and the client takes it (`login_providers`).
pub fn departure(
    cx: &Context<'_>,
    name: &str,
    blob: Option<&str>,
    csrf: Option<&str>,
) -> Result<Departure, Answer> {
    let (req, csrf) = pending::open(cx, blob, csrf)?;
    let provider = cx
        .registry
        .login()
        .and_then(|l| l.provider(name))
        .filter(|_| offered(cx, &req, name))
        .ok_or_else(|| {
            page(
                404,
                Reason::InvalidParameter,
                "This application does not offer signing in with that provider.",
            )
        })?;
    Ok(Departure {
        provider: provider.clone(),
        csrf,
    })
}

/// Whether the sign-in page for `req` offers provider `name`.
fn offered(cx: &Context<'_>, req: &AuthRequest, name: &str) -> bool {
    cx.registry
        .client(&req.client_id)
        .is_some_and(|c| match &c.login_providers {
            None => true,
            Some(list) => list.iter().any(|p| p.as_str() == name),
        })
}

/// The providers the sign-in page for client `client_id` offers, in file
/// order.
pub fn offered_providers<'a>(
    registry: &'a Registry,
    client_id: &str,
) -> Vec<&'a std::sync::Arc<Provider>> {
    let Some(login) = registry.login() else {
        return Vec::new();
    };
    let client = registry.client(client_id);
    login
        .providers
        .iter()
        .filter(|p| {
            client.is_some_and(|c| {
                c.login_providers
                    .as_ref()
                    .is_none_or(|l| l.iter().any(|n| n == &p.name))
            })
        })
        .collect()
}

/// The provider `name` signed a person in, whose verified id token has
/// `claims`; `blob` is the pending request the departure carried and
/// `csrf` the value it was bound to. Her session, then the request
/// decided as after a password sign-in — or, if the provider's rules do
/// not admit her, a page naming the rule (her claims go to no page; the
/// reason is the audit line's).
pub fn arrival(
    cx: &Context<'_>,
    name: &str,
    blob: &str,
    csrf: &str,
    claims: &Value,
) -> Result<Outcome, Refusal> {
    let keep = |answer| Outcome {
        answer,
        session: SessionChange::Keep,
    };
    let (req, csrf) = match pending::open(cx, Some(blob), Some(csrf)) {
        Ok(found) => found,
        Err(answer) => return Ok(keep(answer)),
    };
    let Some(provider) = cx.registry.login().and_then(|l| l.provider(name)) else {
        return Ok(keep(page(
            400,
            Reason::InvalidParameter,
            "This provider is no longer offered here.",
        )));
    };
    let person = provider.admit(claims).map_err(|refused| Refusal {
        outcome: keep(page(
            403,
            Reason::ProviderRefused,
            &format!(
                "{} signed you in, but its rule here does not admit you: {}. \
                 Ask the administrators of this sign-in for access.",
                provider.label(),
                refused.rule
            ),
        )),
        reason: refused.reason,
    })?;
    let Some(session) = Session::of_person(cx, &person) else {
        return Ok(keep(page(500, Reason::Internal, decide::NO_LOGIN)));
    };
    let Ok(Some(open)) = Session::open(cx, session.seal(cx).as_deref()) else {
        return Ok(keep(page(500, Reason::Internal, decide::NO_LOGIN)));
    };
    let fresh = decide::Fresh {
        signed_in: true,
        consented: false,
    };
    let answer = decide::decide(cx, &req, Some(&open), fresh, &csrf);
    let Open { session, .. } = open;
    Ok(super::settled(cx, answer, session, true))
}

/// A person the provider's rules refused: the page, and why (for the
/// audit log only: it may name her email's domain).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub outcome: Outcome,
    pub reason: String,
}
