//! `GET|POST /connect/authorize`: the authorization endpoint. With
//! `[login]`, the core validates the request and decides it with the
//! session (`tollgate_core::authorize`), and `browser` renders the answer.
//! Without `[login]` no one signs in: every request gets the RFC 6749
//! §4.1.2.1 error in a 400, as JSON, and never a redirect — the endpoint
//! is still advertised, because RFC 8414 metadata readers (the MCP SDKs
//! among them) require `authorization_endpoint`.

use std::sync::Arc;

use poem::http::Method;
use poem::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use poem::{Request, Response};
use serde::Serialize;

use super::AppState;
use super::browser::{self, Browser};
use super::scope::Scope;

/// Where the endpoint is served, under the issuer.
pub(crate) const AUTHORIZE_PATH: &str = "/connect/authorize";

/// The endpoint, ready to route (GET and POST, OpenID Connect Core
/// §3.1.2.1).
pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::get(Authorize {
        state: state.clone(),
    })
    .post(Authorize { state })
}

struct Authorize {
    state: Arc<AppState>,
}

impl poem::Endpoint for Authorize {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let scope = Scope::load(&self.state);
        if scope.config().registry.login().is_none() {
            let query = req.uri().query().unwrap_or_default().to_owned();
            return Ok(without_login(&query));
        }
        let browser = Browser::of(&req);
        let params = if req.method() == Method::POST {
            let body = req.take_body();
            match super::form::read(&req, body, self.state.body_timeout).await {
                Ok(form) => form.to_vec(),
                Err(refusal) => return Ok(browser::unreadable(&scope, refusal, &browser)),
            }
        } else {
            req.uri().query().unwrap_or_default().as_bytes().to_vec()
        };
        // A `client_id` that is a URL the file allows: its document checked
        // and the client admitted, so the core finds it as it finds the
        // file's; a refused one gets the core's page for an unknown client.
        let state = &self.state;
        let registry = &scope.config().registry;
        (state.documents)
            .admit_named_in(registry, &params, &state.metrics, browser.address)
            .await;
        let (csrf, new) = browser.csrf_or_new();
        let cx = scope.context(&self.state, browser.address);
        let outcome =
            tollgate_core::authorize::start(&cx, &params, browser.session.as_deref(), &csrf);
        let new_csrf = new.then_some(csrf.as_str());
        Ok(browser::respond(&scope, outcome, new_csrf, browser.address))
    }
}

/// The RFC 6749 §4.1.2.1 error, answered to the caller.
#[derive(Serialize)]
struct Refused {
    error: &'static str,
    error_description: String,
}

/// The answer without `[login]`: a 400 with the error, no redirect.
fn without_login(query: &str) -> Response {
    let response_type = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "response_type")
        .map(|(_, v)| v.into_owned());
    let body = serde_json::to_string(&refusal(response_type.as_deref())).unwrap_or_default();
    Response::builder()
        .status(poem::http::StatusCode::BAD_REQUEST)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .header(CACHE_CONTROL, "no-store")
        .body(body)
}

/// The error for a request with this `response_type`.
fn refusal(response_type: Option<&str>) -> Refused {
    const INSTEAD: &str = "tollgate issues tokens to machine clients at its token endpoint \
         (grant_type=client_credentials); it has no authorization flow";
    match response_type {
        None | Some("") => Refused {
            error: "invalid_request",
            error_description: format!("response_type is missing; {INSTEAD}"),
        },
        Some(_) => Refused {
            error: "unsupported_response_type",
            error_description: format!("no response type is supported; {INSTEAD}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_login_every_request_is_refused_with_an_rfc_6749_code() {
        assert_eq!(refusal(None).error, "invalid_request");
        assert_eq!(refusal(Some("")).error, "invalid_request");
        for response_type in ["code", "token", "id_token", "code id_token"] {
            assert_eq!(
                refusal(Some(response_type)).error,
                "unsupported_response_type"
            );
        }
    }
}
