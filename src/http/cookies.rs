//! The two cookies of the browser flow, read and set through poem's
//! cookie support (the `cookie` crate); what they hold is sealed by the
//! core, not by this module.
//!
//! - `tollgate_session`: the sealed session (HttpOnly, `SameSite=Lax` so
//!   that a client's top-level redirect to the authorization endpoint
//!   carries it, `Path=/`, `Secure` when the issuer is https).
//! - `tollgate_csrf`: a random value the sign-in and consent forms are
//!   bound to (HttpOnly, `SameSite=Strict`: a cross-site POST never
//!   carries it; see `tollgate_core::authorize::pending`).
//! - `tollgate_upstream`: a sign-in at an upstream provider under way,
//!   sealed (HttpOnly, `SameSite=Lax`: the provider's redirect back is
//!   cross-site; see `upstream`).

use std::str::FromStr;

use poem::Request;
use poem::http::header::COOKIE;
use poem::web::cookie::{Cookie, CookieJar, SameSite};

/// The session cookie's name (the contract's).
pub(super) const SESSION: &str = "tollgate_session";
/// The CSRF cookie's name.
pub(super) const CSRF: &str = "tollgate_csrf";
/// A sign-in at an upstream provider under way (`SameSite=Lax`: the
/// provider's redirect back must carry it).
pub(super) const UPSTREAM: &str = "tollgate_upstream";

/// The cookies a request carries (every `Cookie` header: HTTP/2 may
/// split them).
pub(super) fn of(req: &Request) -> CookieJar {
    let joined: Vec<&str> = req
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    CookieJar::from_str(&joined.join("; ")).unwrap_or_default()
}

/// A `Set-Cookie` value for `name` holding `value`.
pub(super) fn set(name: &str, value: &str, secure: bool) -> String {
    let mut cookie = Cookie::new_with_str(name, value);
    cookie.set_http_only(true);
    cookie.set_path("/");
    cookie.set_secure(secure);
    cookie.set_same_site(if name == CSRF {
        SameSite::Strict
    } else {
        SameSite::Lax
    });
    cookie.to_string()
}

/// A `Set-Cookie` value that removes `name`.
pub(super) fn clear(name: &str, secure: bool) -> String {
    let mut cookie = Cookie::new_with_str(name, "");
    cookie.set_http_only(true);
    cookie.set_path("/");
    cookie.set_secure(secure);
    cookie.set_same_site(SameSite::Lax);
    cookie.make_removal();
    cookie.to_string()
}

/// Adds to `response` the `Set-Cookie` that ends the browser's session at
/// tollgate.
pub(super) fn clear_session(response: &mut poem::Response, secure: bool) {
    if let Ok(v) = clear(SESSION, secure).parse() {
        response
            .headers_mut()
            .append(poem::http::header::SET_COOKIE, v);
    }
}
