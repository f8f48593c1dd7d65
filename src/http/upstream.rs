//! Sign-in through an upstream provider, over HTTP:
//! `GET /connect/authorize/upstream/{name}?pending=…` (the sign-in page's
//! "Sign in with …" link) sends the browser to the provider with a sealed
//! `tollgate_upstream` cookie holding `state`, `nonce` and the PKCE
//! verifier; `GET /connect/authorize/upstream/callback` takes the
//! provider's answer (`src/upstream`), and the core continues the waiting
//! authorization request with the person (`authorize::upstream`).
//!
//! The cookie is `SameSite=Lax`: the provider's redirect back is a
//! cross-site top-level navigation, which carries no `Strict` cookie. The
//! pending request's CSRF value travels inside it, sealed; `state` binds
//! the return to this browser. The cookie is cleared at the callback
//! whatever happens, so an answer is used once.

use std::sync::Arc;

use askama::Template;
use poem::http::header::SET_COOKIE;
use poem::{Request, Response};
use tollgate_core::Reason;
use tollgate_core::authorize::{Answer, Outcome, upstream as core};
use tollgate_core::sealed::Purpose;
use tollgate_core::session::SessionChange;

use super::AppState;
use super::browser::{self, Browser};
use super::cookies;
use super::page::{self, MessagePage};
use super::scope::Scope;
use crate::observe::audit;
use crate::upstream::{self, CALLBACK_PATH, Failure, Flight, link};

/// The route of the departures, `{name}` the provider.
pub(super) const START_ROUTE: &str = "/connect/authorize/upstream/:name";
pub(super) use crate::upstream::CALLBACK_PATH as CALLBACK_ROUTE;

pub(super) fn start(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::get(Start { state })
}

pub(super) fn callback(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::get(Callback { state })
}

struct Start {
    state: Arc<AppState>,
}

impl poem::Endpoint for Start {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let scope = Scope::load(&self.state);
        let browser = Browser::of(&req);
        let name = req.raw_path_param("name").unwrap_or_default().to_owned();
        let pending = query_param(&req, "pending");
        let cx = scope.context(&self.state, browser.address);
        let departure =
            match core::departure(&cx, &name, pending.as_deref(), browser.csrf.as_deref()) {
                Ok(d) => d,
                Err(answer) => return Ok(respond(&scope, answer, browser.address)),
            };
        let Some(key) = cx.sealing else {
            return Ok(message(
                &scope,
                500,
                "Signing in is not available on this server.",
                None,
            ));
        };
        let pending = pending.unwrap_or_default();
        let redirect_uri = format!("{}{CALLBACK_PATH}", cx.issuer);
        let now = cx.now.unix_timestamp();
        let provider = &departure.provider;
        match upstream::depart(
            &self.state.remote_keys,
            provider,
            &redirect_uri,
            &pending,
            &departure.csrf,
            now,
        )
        .await
        {
            Ok((location, flight)) => {
                let mut response = page::see_other(&location);
                let sealed = key.seal(Purpose::Upstream, &flight);
                set_cookie(
                    &mut response,
                    cookies::set(cookies::UPSTREAM, &sealed, scope.secure_cookies()),
                );
                Ok(response)
            }
            Err(failure) => Ok(unavailable(
                &self.state,
                &scope,
                provider.name.as_str(),
                provider.label(),
                &failure,
                &link(provider.name.as_str(), &pending),
                browser.address,
            )),
        }
    }
}

struct Callback {
    state: Arc<AppState>,
}

impl poem::Endpoint for Callback {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let scope = Scope::load(&self.state);
        let browser = Browser::of(&req);
        let jar = cookies::of(&req);
        let cx = scope.context(&self.state, browser.address);
        let now = cx.now.unix_timestamp();
        let flight: Option<Flight> = jar
            .get(cookies::UPSTREAM)
            .and_then(|c| cx.sealing?.open(Purpose::Upstream, c.value_str()))
            .filter(|f: &Flight| f.exp > now);
        let state_param = query_param(&req, "state");
        let state_matches = flight.as_ref().is_some_and(|f| {
            state_param.as_deref().is_some_and(|s| {
                aws_lc_rs::constant_time::verify_slices_are_equal(s.as_bytes(), f.state.as_bytes())
                    .is_ok()
            })
        });
        let mut response = match flight {
            Some(flight) if state_matches => self.land(&scope, &req, &flight, &browser).await,
            _ => {
                audit::authorization(
                    "refused",
                    None,
                    None,
                    Some(Reason::UpstreamInvalid),
                    browser.address,
                );
                message(
                    &scope,
                    400,
                    "This sign-in is no longer valid (it took too long, or it was started in another browser). Go back to the application and start again.",
                    None,
                )
            }
        };
        set_cookie(
            &mut response,
            cookies::clear(cookies::UPSTREAM, scope.secure_cookies()),
        );
        Ok(response)
    }
}

impl Callback {
    async fn land(
        &self,
        scope: &Scope,
        req: &Request,
        flight: &Flight,
        browser: &Browser,
    ) -> Response {
        let cx = scope.context(&self.state, browser.address);
        let name = flight.provider.as_str();
        let retry = link(name, &flight.pending);
        let Some(provider) = cx.registry.login().and_then(|l| l.provider(name)).cloned() else {
            return message(scope, 400, "This provider is no longer offered here.", None);
        };
        if let Some(error) = query_param(req, "error") {
            // The provider would not sign her in (she cancelled, or it
            // refused): its words are not ours to show.
            let why = format!("the provider answered {error}");
            audit::upstream("failed", name, None, Some(&why), browser.address);
            return message(
                scope,
                403,
                &format!("{} did not sign you in.", provider.label()),
                Some(&retry),
            );
        }
        let code = query_param(req, "code").unwrap_or_default();
        let iss = query_param(req, "iss");
        let Some(secret) = scope.config().provider_secret(name) else {
            return message(scope, 400, "This provider is no longer offered here.", None);
        };
        let redirect_uri = format!("{}{CALLBACK_PATH}", cx.issuer);
        let answer = upstream::Answer {
            code: &code,
            iss: iss.as_deref(),
        };
        let now = cx.now.unix_timestamp();
        let landed = upstream::land(
            &self.state.remote_keys,
            &provider,
            secret,
            flight,
            &answer,
            &redirect_uri,
            now,
        )
        .await;
        let claims = match landed {
            Ok(claims) => {
                self.state.provider_status.reached(name);
                claims
            }
            Err(failure) if failure.kind.unavailable() => {
                return unavailable(
                    &self.state,
                    scope,
                    name,
                    provider.label(),
                    &failure,
                    &retry,
                    browser.address,
                );
            }
            Err(failure) => {
                self.state
                    .metrics
                    .provider_failed(name, failure.kind.as_str());
                audit::upstream("failed", name, None, Some(&failure.detail), browser.address);
                return message(
                    scope,
                    400,
                    &format!(
                        "The answer of {} could not be used. Start again.",
                        provider.label()
                    ),
                    Some(&retry),
                );
            }
        };
        let claims = serde_json::Value::Object(claims);
        match core::arrival(&cx, name, &flight.pending, &flight.csrf, &claims) {
            Ok(outcome) => {
                if let SessionChange::Set(_) = outcome.session {
                    let sub = claims
                        .get("sub")
                        .and_then(|s| s.as_str())
                        .unwrap_or_default();
                    let user = format!("{name}|{sub}");
                    audit::upstream("admitted", name, Some(&user), None, browser.address);
                }
                browser::respond(scope, outcome, None, browser.address)
            }
            Err(refusal) => {
                let sub = claims
                    .get("sub")
                    .and_then(|s| s.as_str())
                    .unwrap_or_default();
                let user = format!("{name}|{sub}");
                audit::upstream(
                    "refused",
                    name,
                    Some(&user),
                    Some(&refusal.reason),
                    browser.address,
                );
                browser::respond(scope, refusal.outcome, None, browser.address)
            }
        }
    }
}

/// A provider that could not be reached or used: a page with a retry,
/// the reason in `/healthz`, the metric, the log.
fn unavailable(
    state: &AppState,
    scope: &Scope,
    name: &str,
    label: &str,
    failure: &Failure,
    retry: &str,
    address: Option<std::net::IpAddr>,
) -> Response {
    state.provider_status.failed(name, failure);
    state.metrics.provider_failed(name, failure.kind.as_str());
    tracing::warn!(provider = name, reason = failure.kind.as_str(), error = %failure.detail, "upstream provider unavailable");
    audit::upstream("failed", name, None, Some(&failure.detail), address);
    message(
        scope,
        503,
        &format!("{label} cannot be reached right now. Try again in a moment."),
        Some(retry),
    )
}

/// An answer of the core's, as the browser gets it.
fn respond(scope: &Scope, answer: Answer, address: Option<std::net::IpAddr>) -> Response {
    let outcome = Outcome {
        answer,
        session: SessionChange::Keep,
    };
    browser::respond(scope, outcome, None, address)
}

/// A message page, with a link to try again.
fn message(scope: &Scope, status: u16, text: &str, retry: Option<&str>) -> Response {
    let title = scope.page_title();
    let body = MessagePage {
        title,
        style: page::style(),
        heading: if status == 503 {
            "Try again"
        } else {
            "Not signed in"
        },
        message: text,
        alert: true,
        next: retry,
    }
    .render();
    page::html(status, body, None)
}

fn set_cookie(response: &mut Response, value: String) {
    if let Ok(v) = value.parse() {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

/// The first value of query parameter `name`.
fn query_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
