//! The pages people see (sign-in, consent, and one message page for
//! errors, "not admitted" and "signed out"), rendered from askama
//! templates in `templates/`: they are compiled into the server, so a
//! template that does not compile fails the build, never a request, and
//! every value is HTML-escaped unless marked otherwise (only the constant
//! style sheet is).
//!
//! Every page is `no-store` and carries a Content-Security-Policy that
//! allows nothing but its own inline style (by hash), no framing, and
//! forms posted to tollgate — and, for a form whose answer redirects to
//! the client, the client's origin too: Chromium applies `form-action` to
//! the redirects that follow a form's POST. The envelope adds
//! `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`.

use std::sync::LazyLock;

use askama::Template;
use base64::Engine;
use poem::Response;
use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};

/// The pages' one style sheet, inlined.
const STYLE: &str = include_str!("../../templates/style.css");

/// The CSP source that allows exactly [`STYLE`].
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = tollgate_jose::digest::sha256(STYLE.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

#[derive(Template)]
#[template(path = "signin.html")]
pub(super) struct SignInPage<'a> {
    pub(super) title: &'a str,
    pub(super) style: &'a str,
    pub(super) client: &'a str,
    pub(super) error: Option<&'a str>,
    pub(super) action: &'a str,
    pub(super) pending: &'a str,
    pub(super) username: &'a str,
    /// The password form: only when the file has `[[users]]`.
    pub(super) password: bool,
    /// "Sign in with …" links: (href, label), the providers the client
    /// takes.
    pub(super) providers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub(super) struct ConsentPage<'a> {
    pub(super) title: &'a str,
    pub(super) style: &'a str,
    /// The file's name for the client; for a client named by a URL, the
    /// URL's host: the only thing about it that is checked.
    pub(super) client: &'a str,
    /// For a client named by a URL, the name its document gives itself,
    /// shown as secondary text (anyone can write any name).
    pub(super) claimed_name: Option<&'a str>,
    pub(super) user: &'a str,
    pub(super) host: &'a str,
    pub(super) scopes: &'a [String],
    pub(super) action: &'a str,
    pub(super) pending: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct MessagePage<'a> {
    pub(super) title: &'a str,
    pub(super) style: &'a str,
    pub(super) heading: &'a str,
    pub(super) message: &'a str,
    /// The message is an error (`role="alert"`).
    pub(super) alert: bool,
    pub(super) next: Option<&'a str>,
}

/// The style sheet the templates inline.
pub(super) fn style() -> &'static str {
    STYLE
}

/// A rendered page: `status`, `no-store`, the CSP, and forms allowed to
/// post to tollgate and to lead on to `form_target` (an origin).
pub(super) fn html(
    status: u16,
    body: Result<String, askama::Error>,
    form_target: Option<&str>,
) -> Response {
    let Ok(body) = body else {
        tracing::error!("a page did not render");
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(CACHE_CONTROL, "no-store")
            .body("the page could not be shown");
    };
    let mut form_action = String::from("'self'");
    if let Some(origin) = form_target.filter(|o| csp_source(o)) {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let csp = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .header(CACHE_CONTROL, "no-store")
        .header(CONTENT_SECURITY_POLICY, csp)
        .body(body)
}

/// A 303 to `location` (the browser GETs it, whatever method led here).
pub(super) fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(LOCATION, location)
        .header(CACHE_CONTROL, "no-store")
        .finish()
}

/// Whether `origin` can stand in a CSP as a source as it is (an origin
/// the url crate serialized: no spaces, quotes or semicolons).
fn csp_source(origin: &str) -> bool {
    !origin.is_empty()
        && origin != "null"
        && origin
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"'))
}
