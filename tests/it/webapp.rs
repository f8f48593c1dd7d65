//! The web sample (examples/webapp.rs, an `openidconnect` relying party)
//! as a process, with the sample API and tollgate: alice follows /secure
//! to tollgate's sign-in page, signs in, and comes back to her id token's
//! claims; /call-api shows what the API saw of her access token; /signout
//! ends both sessions. A browser is a cookie-keeping HTTP client here
//! (the headless Chromium run is tests/browser/).

use crate::support::{TestServer, example, hash, start_process};

/// The shipped file's people and web client (its secret "secret"), and
/// the quickstart's scope.
fn people() -> String {
    format!(
        r#"
[login]
title = "Acme sign-in"

[[api_scopes]]
name = "api1"

[[users]]
username = "alice"
password_hash = "{alice}"
name = "Alice Smith"
email = "alice@example.com"
email_verified = true

[[clients]]
client_id = "web"
allowed_grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://localhost:5002/signin-oidc"]
post_logout_redirect_uris = ["http://localhost:5002/"]
allowed_scopes = ["openid", "profile", "email", "api1", "offline_access"]

[[clients.secrets]]
hash = "{secret}"
"#,
        alice = hash("alice"),
        secret = hash("secret"),
    )
}

/// The value of the hidden field `name` of a page's form.
fn field(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let at = html.find(&marker).expect("the field") + marker.len();
    html[at..].split('"').next().unwrap().replace("&amp;", "&")
}

/// The `action` of a page's form.
fn action(html: &str) -> String {
    let at = html
        .find(r#"<form method="post" action=""#)
        .expect("a form")
        + 28;
    html[at..].split('"').next().unwrap().replace("&amp;", "&")
}

#[tokio::test]
async fn alice_signs_in_to_the_web_sample_sees_her_claims_calls_the_api_and_signs_out() {
    let server = TestServer::spawn(&people()).await;
    let issuer = server.issuer();
    let (_api, api) = start_process(
        &example("api"),
        &["--authority", &issuer, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let (_app, app) = start_process(
        &example("webapp"),
        &[
            "--authority",
            &issuer,
            "--listen",
            "127.0.0.1:0",
            "--api",
            &format!("{api}/identity"),
        ],
        "web app listening on ",
    )
    .await;
    assert!(app.starts_with("http://localhost:"), "{app}");
    // A browser follows redirects and keeps each host's cookies.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let signin = browser.get(format!("{app}/secure")).send().await.unwrap();
    assert!(
        signin.url().as_str().starts_with(&issuer),
        "/secure sends the browser to tollgate: {}",
        signin.url()
    );
    let page = signin.text().await.unwrap();
    assert!(page.contains("Acme sign-in"), "{page}");
    let posted = browser
        .post(format!("{issuer}{}", action(&page)))
        .form(&[
            ("pending", field(&page, "pending").as_str()),
            ("username", "alice"),
            ("password", "alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.url().as_str(), format!("{app}/secure"));
    let secure = posted.text().await.unwrap();
    for shown in [
        "<th>sub</th><td>alice</td>",
        "alice@example.com",
        "Alice Smith",
    ] {
        assert!(secure.contains(shown), "{shown} not in {secure}");
    }
    assert!(secure.contains("A refresh token was issued"), "{secure}");

    let called = browser.get(format!("{app}/call-api")).send().await.unwrap();
    let called = called.text().await.unwrap();
    assert!(called.contains("answered 200"), "{called}");
    assert!(called.contains("alice"), "the API saw her token: {called}");

    let out = browser.get(format!("{app}/signout")).send().await.unwrap();
    assert_eq!(
        out.url().as_str(),
        format!("{app}/"),
        "tollgate's end-session endpoint sends her back to the app"
    );
    let again = browser.get(format!("{app}/secure")).send().await.unwrap();
    let again = again.text().await.unwrap();
    assert!(
        again.contains(r#"type="password""#),
        "signed out of tollgate too: the sign-in page again"
    );
}
