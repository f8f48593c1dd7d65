//! A person's browser in the code flow, by HTTP: a client that keeps
//! cookies and shows redirects instead of following them; the sign-in
//! page filled in, a code asked for in the session it holds, and the
//! code at the redirect URI.

use base64::Engine;

use super::{REDIRECT, VERIFIER};

/// A browser: it keeps cookies and shows redirects.
pub(crate) fn cookie_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The authorization request of `client` for `scope` at the server whose
/// root is `base`, with [`VERIFIER`]'s S256 challenge and [`REDIRECT`].
pub(crate) fn authorization_url(base: &str, client: &str, scope: &str) -> String {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(tollgate_jose::digest::sha256(VERIFIER.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("{base}/connect/authorize?{query}")
}

/// The `code` of a redirect to [`REDIRECT`].
fn code_of(answer: &reqwest::Response) -> String {
    assert_eq!(answer.status(), 303, "a redirect with a code");
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code")
}

/// `username` signs in with `password` on the sign-in page of `client`'s
/// request: the code it ends with.
pub(crate) async fn sign_in_for_code(
    browser: &reqwest::Client,
    base: &str,
    client: &str,
    scope: &str,
    username: &str,
    password: &str,
) -> String {
    let page = browser
        .get(authorization_url(base, client, scope))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the sign-in page");
    let html = page.text().await.unwrap();
    let at = html.find(r#"name="pending" value=""#).expect("a form") + 22;
    let pending = html[at..].split('"').next().unwrap();
    let signed_in = browser
        .post(format!("{base}/connect/authorize/signin"))
        .form(&[
            ("pending", pending),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    code_of(&signed_in)
}

/// A code for `client`, asked for in the session the browser holds (no
/// page shown).
pub(crate) async fn code_in_session(
    browser: &reqwest::Client,
    base: &str,
    client: &str,
    scope: &str,
) -> String {
    let answer = browser
        .get(authorization_url(base, client, scope))
        .send()
        .await
        .unwrap();
    code_of(&answer)
}
