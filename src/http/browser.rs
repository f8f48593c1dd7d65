//! What the browser-flow endpoints (authorize, sign-in, consent) share:
//! the request's context and cookies, and the core's decision turned
//! into a response — a page, or a 303 to the client's redirect URI — with
//! the session and CSRF cookies set or cleared, and its audit line.

use std::net::IpAddr;

use askama::Template;
use poem::Response;
use poem::http::header::SET_COOKIE;
use tollgate_core::authorize::{Answer, Outcome};
use tollgate_core::session::{SessionChange, random_id};

use super::cookies;
use super::page::{self, ConsentPage, MessagePage, SignInPage};
use super::scope::Scope;
use crate::observe::audit;

/// Where the sign-in form posts.
pub(super) const SIGNIN_PATH: &str = "/connect/authorize/signin";
/// Where the consent form posts.
pub(super) const CONSENT_PATH: &str = "/connect/authorize/consent";

/// The cookies of one browser request.
pub(super) struct Browser {
    pub(super) session: Option<String>,
    /// The CSRF cookie the browser sent.
    pub(super) csrf: Option<String>,
    pub(super) address: Option<IpAddr>,
}

impl Browser {
    pub(super) fn of(req: &poem::Request) -> Self {
        let jar = cookies::of(req);
        let value = |name| jar.get(name).map(|c| c.value_str().to_owned());
        Self {
            session: value(cookies::SESSION),
            csrf: value(cookies::CSRF).filter(|v| !v.is_empty()),
            address: req.remote_addr().as_socket_addr().map(|a| a.ip()),
        }
    }

    /// The CSRF value forms are bound to: the browser's, else a new one
    /// (set with the answer).
    pub(super) fn csrf_or_new(&self) -> (String, bool) {
        match &self.csrf {
            Some(v) => (v.clone(), false),
            None => (random_id(), true),
        }
    }
}

/// A form a browser posted to a flow's endpoint: the endpoint's scope,
/// the browser's cookies and the form's bytes — or, when the body cannot
/// be read, the page that says so.
pub(super) struct Posted {
    pub(super) scope: Scope,
    pub(super) browser: Browser,
    pub(super) form: bytes::Bytes,
}

impl Posted {
    pub(super) async fn read(
        state: &super::AppState,
        req: &mut poem::Request,
    ) -> Result<Self, Response> {
        let scope = Scope::load(state);
        let browser = Browser::of(req);
        let body = req.take_body();
        match super::form::read(req, body, state.body_timeout).await {
            Ok(form) => Ok(Self {
                scope,
                browser,
                form,
            }),
            Err(refusal) => Err(unreadable(&scope, refusal, &browser)),
        }
    }
}

/// The endpoint of a flow's form (POST only): the form read as
/// [`Posted`], then `handle`d.
pub(super) fn form_endpoint<F, Fut>(
    state: std::sync::Arc<super::AppState>,
    handle: F,
) -> impl poem::Endpoint
where
    F: Fn(std::sync::Arc<super::AppState>, Posted) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    let handle = std::sync::Arc::new(handle);
    poem::post(poem::endpoint::make(move |mut req: poem::Request| {
        let (state, handle) = (state.clone(), handle.clone());
        async move {
            match Posted::read(&state, &mut req).await {
                Ok(posted) => handle(state, posted).await,
                Err(page) => page,
            }
        }
    }))
}

/// `outcome` as the browser gets it; `new_csrf` a CSRF value to set.
pub(super) fn respond(
    scope: &Scope,
    outcome: Outcome,
    new_csrf: Option<&str>,
    address: Option<IpAddr>,
) -> Response {
    let config = scope.config();
    let title = scope.page_title();
    let style = page::style();
    let message = |status: u16, heading: &str, message: &str, alert: bool| {
        let body = MessagePage {
            title,
            style,
            heading,
            message,
            alert,
            next: None,
        }
        .render();
        page::html(status, body, None)
    };
    let mut response = match &outcome.answer {
        Answer::Page {
            status,
            reason,
            message: text,
        } => {
            audit::authorization("refused", None, None, Some(*reason), address);
            message(*status, "Something went wrong", text, true)
        }
        Answer::Code {
            location,
            client,
            sub,
        } => {
            audit::authorization("code", Some(client.id.as_str()), Some(sub), None, address);
            page::see_other(location)
        }
        Answer::Error {
            location,
            reason,
            client_id,
            ..
        } => {
            audit::authorization("redirected", Some(client_id), None, Some(*reason), address);
            page::see_other(location)
        }
        Answer::SignIn(form) => {
            if let Some(failed) = form.failed {
                let id = form.client.id.as_str();
                audit::authorization(
                    "sign_in_failed",
                    Some(id),
                    None,
                    Some(failed.reason),
                    address,
                );
            }
            let body = SignInPage {
                title,
                style,
                client: form.client.shown_name(),
                error: form.failed.map(|f| f.message()),
                action: SIGNIN_PATH,
                pending: &form.pending,
                username: form.login_hint.as_deref().unwrap_or_default(),
                // The contract: the password form only when the file has
                // people; a page with neither is a form that fails.
                password: config.registry.users().next().is_some()
                    || config
                        .registry
                        .login()
                        .is_none_or(|l| l.providers.is_empty()),
                providers: tollgate_core::authorize::upstream::offered_providers(
                    &config.registry,
                    form.client.id.as_str(),
                )
                .into_iter()
                .map(|p| {
                    let href = crate::upstream::link(p.name.as_str(), &form.pending);
                    (href, p.label().to_owned())
                })
                .collect(),
            }
            .render();
            page::html(200, body, Some(&form.redirect_origin))
        }
        Answer::Consent(form) => {
            let body = ConsentPage {
                title,
                style,
                // A client named by a URL is its host, first and large (a
                // look-alike host is the phishing risk); its own name for
                // itself comes second.
                client: form
                    .client
                    .document
                    .as_deref()
                    .map_or(form.client.shown_name(), |d| d.host.as_str()),
                claimed_name: form
                    .client
                    .document
                    .as_ref()
                    .and(form.client.display_name.as_deref()),
                user: &form.sub,
                host: &form.redirect_host,
                scopes: &form.scopes,
                action: CONSENT_PATH,
                pending: &form.pending,
            }
            .render();
            page::html(200, body, Some(&form.redirect_origin))
        }
        Answer::NotAdmitted { client, sub } => {
            let reason = Some(tollgate_core::Reason::NotAdmitted);
            audit::authorization(
                "not_admitted",
                Some(client.id.as_str()),
                Some(sub),
                reason,
                address,
            );
            let text = format!(
                "You are signed in as {sub}, but {} is not open to you. \
                 Ask its administrators for access.",
                client.shown_name()
            );
            message(403, "No access", &text, true)
        }
    };
    let secure = scope.secure_cookies();
    let headers = response.headers_mut();
    let mut set = |value: String| {
        if let Ok(v) = value.parse() {
            headers.append(SET_COOKIE, v);
        }
    };
    match outcome.session {
        SessionChange::Keep => {}
        SessionChange::Set(sealed) => set(cookies::set(cookies::SESSION, &sealed, secure)),
        SessionChange::Clear => set(cookies::clear(cookies::SESSION, secure)),
    }
    if let Some(csrf) = new_csrf {
        set(cookies::set(cookies::CSRF, csrf, secure));
    }
    response
}

/// A form that could not be read: a page saying so.
pub(super) fn unreadable(
    scope: &Scope,
    refusal: tollgate_core::Refusal,
    browser: &Browser,
) -> Response {
    let outcome = Outcome {
        answer: Answer::Page {
            status: refusal.error.http_status(),
            reason: refusal.reason,
            message: "The form could not be read.".into(),
        },
        session: SessionChange::Keep,
    };
    respond(scope, outcome, None, browser.address)
}
