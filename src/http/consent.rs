//! `POST /connect/authorize/consent`: the consent form, posted (Allow or
//! Deny). The core checks the sealed request, its CSRF binding and the
//! session; Allow records the consent in the session and issues the
//! code, Deny is `access_denied` at the redirect URI.

use std::sync::Arc;

use poem::Response;

use super::AppState;
use super::browser::{self, Posted};

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    browser::form_endpoint(state, consent)
}

async fn consent(state: Arc<AppState>, posted: Posted) -> Response {
    let Posted {
        scope,
        browser,
        form,
    } = posted;
    let cx = scope.context(&state, browser.address);
    let outcome = tollgate_core::authorize::consent(
        &cx,
        &form,
        browser.session.as_deref(),
        browser.csrf.as_deref(),
    );
    browser::respond(&scope, outcome, None, browser.address)
}
