//! `POST /connect/authorize/consent`: the consent form, posted (Allow or
//! Deny). The core checks the sealed request, its CSRF binding and the
//! session; Allow records the consent in the session and issues the
//! code, Deny is `access_denied` at the redirect URI.

use std::sync::Arc;

use poem::{Request, Response};

use super::AppState;
use super::browser::{self, Browser};
use super::scope::Scope;

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::post(Consent { state })
}

struct Consent {
    state: Arc<AppState>,
}

impl poem::Endpoint for Consent {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let scope = Scope::load(&self.state);
        let browser = Browser::of(&req);
        let body = req.take_body();
        let form = match super::form::read(&req, body, self.state.body_timeout).await {
            Ok(form) => form,
            Err(refusal) => return Ok(browser::unreadable(&scope, refusal, &browser)),
        };
        let cx = scope.context(&self.state, browser.address);
        let outcome = tollgate_core::authorize::consent(
            &cx,
            &form,
            browser.session.as_deref(),
            browser.csrf.as_deref(),
        );
        Ok(browser::respond(&scope, outcome, None, browser.address))
    }
}
