//! `GET /`: what someone who opens the server in a browser sees — its
//! name, who is signed in here (with a way out), and where a developer
//! goes next (discovery, the keys, the API reference): the quickstart's
//! first hour starts at this page, not at "not found". Nothing on it is
//! not public already.

use std::sync::Arc;

use askama::Template;
use poem::{EndpointExt, Request, Response};
use tollgate_core::session::Session;

use super::AppState;
use super::browser::Browser;
use super::cookies;
use super::page;
use super::scope::Scope;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    title: &'a str,
    style: &'a str,
    heading: &'a str,
    issuer: &'a str,
    /// Who is signed in, when a session stands.
    user: Option<&'a str>,
}

/// `rest`, with `/` answered by this page first: the OpenAPI service is
/// nested at the root, and a route of `/` beside it would never be
/// reached (the nest's catch-all matches `/` too).
pub(super) fn before<E: poem::Endpoint + 'static>(
    state: Arc<AppState>,
    rest: E,
) -> impl poem::Endpoint {
    Root {
        home: poem::get(Home { state }),
        rest: rest.map_to_response(),
    }
}

struct Root<H, R> {
    home: H,
    rest: R,
}

impl<H, R> poem::Endpoint for Root<H, R>
where
    H: poem::Endpoint<Output = Response>,
    R: poem::Endpoint<Output = Response>,
{
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.uri().path() == "/" {
            self.home.call(req).await
        } else {
            self.rest.call(req).await
        }
    }
}

struct Home {
    state: Arc<AppState>,
}

impl poem::Endpoint for Home {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let scope = Scope::load(&self.state);
        let browser = Browser::of(&req);
        let cx = scope.context(&self.state, browser.address);
        let session = Session::open(&cx, browser.session.as_deref());
        let user = session.as_ref().ok().and_then(Option::as_ref);
        let title = scope.page_title();
        let body = HomePage {
            title,
            style: page::style(),
            heading: "Welcome",
            issuer: scope.issuer(),
            user: user.map(|open| open.user.username.as_str()),
        }
        .render();
        let mut response = page::html(200, body, None);
        // A session that no longer stands is cleared, as everywhere.
        if session.is_err() {
            cookies::clear_session(&mut response, scope.secure_cookies());
        }
        Ok(response)
    }
}
