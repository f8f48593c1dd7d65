//! `POST /connect/authorize/signin`: the sign-in form, posted. The core
//! checks the sealed request, its CSRF binding and the password; every
//! failed sign-in (unknown user, disabled user, wrong password) is
//! answered with the same page after the same time: the floor failed
//! client authentications wait out (`runtime::failure_time`), measured on
//! the work alone.

use std::sync::Arc;

use poem::Response;
use tollgate_core::Reason;
use tollgate_core::authorize::Answer;
use tollgate_core::session::SessionChange;

use super::AppState;
use super::browser::{self, Posted};
use crate::observe::audit;
use crate::runtime::failure_time::measured;

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    browser::form_endpoint(state, sign_in)
}

async fn sign_in(state: Arc<AppState>, posted: Posted) -> Response {
    let Posted {
        scope,
        browser,
        form,
    } = posted;
    let cx = scope.context(&state, browser.address);
    let started = tokio::time::Instant::now();
    let (outcome, work) = measured(tollgate_core::authorize::sign_in(
        &cx,
        &*state,
        &form,
        browser.csrf.as_deref(),
    ))
    .await;
    if let Answer::SignIn(page) = &outcome.answer
        && page.failed.is_some_and(|f| f.reason != Reason::Throttled)
    {
        equal_time(&state, started, work).await;
    }
    if matches!(outcome.session, SessionChange::Set(_)) {
        let user = match &outcome.answer {
            Answer::Code { sub, .. } | Answer::NotAdmitted { sub, .. } => Some(sub.as_str()),
            Answer::Consent(form) => Some(form.sub.as_str()),
            _ => None,
        };
        audit::authorization("signed_in", None, user, None, browser.address);
    }
    browser::respond(&scope, outcome, None, browser.address)
}

/// A failed sign-in is answered no sooner than any failed
/// authentication, so its time says nothing about the username.
async fn equal_time(state: &AppState, started: tokio::time::Instant, work: std::time::Duration) {
    let floor = &state.failure_floor;
    floor.saw(work);
    if let Some(_parked) = floor.park() {
        tokio::time::sleep_until(started + floor.floor()).await;
    }
}
