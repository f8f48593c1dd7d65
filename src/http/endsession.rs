//! `GET /connect/endsession`: RP-Initiated Logout 1.0. The session
//! cookie is cleared whatever the request holds; the browser is sent to
//! the client's registered `post_logout_redirect_uri` (with `state`) only
//! when the core finds one (`tollgate_core::endsession`), else it sees the
//! "You are signed out" page. The `id_token_hint` is checked here against
//! the keys we publish now (its expiry may be past: OpenID allows it).
//! When the browser's session stood, the clients she signed in to in it
//! are told in the background (Back-Channel Logout 1.0: `backchannel`).

use std::sync::Arc;

use askama::Template;
use poem::{Request, Response};
use serde_json::{Map, Value};
use tollgate_core::endsession::EndSession;

use tollgate_core::session::Session;

use super::AppState;
use super::cookies;
use super::page::{self, MessagePage};
use super::scope::Scope;

/// Where the endpoint is served, under the issuer.
pub(crate) const ENDSESSION_PATH: &str = "/connect/endsession";

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::get(EndSessionEndpoint { state })
}

struct EndSessionEndpoint {
    state: Arc<AppState>,
}

impl poem::Endpoint for EndSessionEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let scope = Scope::load(&self.state);
        let query = req.uri().query().unwrap_or_default().as_bytes();
        let now = self.state.clock.now();
        let cx = scope.context(&self.state, None);
        let jar = cookies::of(&req);
        let cookie = jar.get(cookies::SESSION);
        // A session that no longer stands (expired, her user gone) has
        // nothing left to end at the clients.
        let told = match Session::open(&cx, cookie.as_ref().map(|c| c.value_str())) {
            Ok(Some(open)) => Some((
                open.session.sub.clone(),
                crate::backchannel::announce(
                    &self.state,
                    &scope.config().registry,
                    scope.issuer(),
                    &open.session,
                ),
            )),
            _ => None,
        };
        let redirect = match EndSession::parse(query) {
            Ok(request) => {
                let hint = request.hint().and_then(|t| own_claims(&self.state, t, now));
                request.redirect(&cx, hint.as_ref())
            }
            Err(_) => None,
        };
        let mut response = match redirect {
            Some(location) => page::see_other(&location),
            None => {
                let title = scope.page_title();
                let body = MessagePage {
                    title,
                    style: page::style(),
                    heading: "You are signed out",
                    message: "You are signed out of this server. You may close this window.",
                    alert: false,
                    next: None,
                }
                .render();
                page::html(200, body, None)
            }
        };
        cookies::clear_session(&mut response, scope.secure_cookies());
        let (user, notified) = told.unzip();
        tracing::info!(
            target: "tollgate::audit",
            outcome = "signed_out",
            user = user.as_deref().map(|u| tracing::field::display(crate::observe::audit::untrusted(u))),
            redirected = response.status().is_redirection(),
            notified,
            "session ended"
        );
        Ok(response)
    }
}

/// The claims of `token` if one of the keys we publish now signed it and
/// it is not an access token.
fn own_claims(
    state: &AppState,
    token: &str,
    now: time::OffsetDateTime,
) -> Option<Map<String, Value>> {
    use tollgate_jose::jose;
    let jwt = jose::peek(token)?;
    // An access token names an API, never the client: not a hint.
    if jwt.raw_header.get("typ").and_then(|t| t.as_str()) == Some("at+jwt") {
        return None;
    }
    let kid = jwt.header.kid.as_deref()?;
    let ring = state.keys();
    let entry = ring.published(now).find(|e| e.key.kid() == kid)?;
    let key = jose::parse_jwk(&serde_json::to_value(entry.key.jwk()).ok()?).ok()?;
    jose::verifies(token, &jwt, &key).then_some(jwt.claims)
}
