//! People signing in through a browser (a cookie-keeping client that
//! does not follow redirects): the authorization endpoint's sign-in page,
//! the code at the redirect URI with `state` and `iss`, one answer for
//! every failed sign-in, the CSRF binding of the form, `prompt=none`,
//! the pages' headers, and RP-Initiated Logout.

use std::collections::HashMap;

use std::time::Duration;

use crate::support::{TestServer, eventually, hash, quickstart_toml, start_logged};

const CB: &str = "http://localhost:5002/signin-oidc";
const AFTER_LOGOUT: &str = "http://localhost:5002/";
/// RFC 7636 Appendix B's challenge.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The quickstart with people: alice and bob (each her name as her
/// password), and the web client.
fn people_toml() -> String {
    people_toml_with("alice")
}

/// [`people_toml`] with `password` as alice's.
fn people_toml_with(password: &str) -> String {
    format!(
        r#"{}
[[clients]]
client_id = "web"
public = true
allowed_grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["{CB}"]
post_logout_redirect_uris = ["{AFTER_LOGOUT}"]
allowed_scopes = ["openid", "profile", "api1"]

[login]
title = "Acme sign-in"

[[users]]
username = "alice"
password_hash = "{}"
groups = ["admins"]

[[users]]
username = "bob"
password_hash = "{}"

[[users]]
username = "carol"
password_hash = "{}"
enabled = false
"#,
        quickstart_toml(),
        hash(password),
        hash("bob"),
        hash("carol"),
    )
}

/// A browser: it keeps cookies and shows redirects instead of following
/// them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn authorize_url(server: &TestServer, extra: &str) -> String {
    authorize_at(&server.url(""), extra)
}

/// The authorization request of `web` at the server whose root is `base`.
fn authorize_at(base: &str, extra: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("scope", "openid api1"),
            ("state", "xyz"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("{base}/connect/authorize?{query}{extra}")
}

/// The value of the hidden `pending` field of a page.
fn pending(html: &str) -> String {
    let at = html.find(r#"name="pending" value=""#).expect("a form") + 22;
    html[at..].split('"').next().unwrap().to_owned()
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn post_sign_in(
    server: &TestServer,
    browser: &reqwest::Client,
    pending: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(server.url("/connect/authorize/signin"))
        .form(&[
            ("pending", pending),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// The sign-in page's form, as `browser` is shown it.
async fn sign_in_page(server: &TestServer, browser: &reqwest::Client) -> String {
    let page = browser.get(authorize_url(server, "")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn alice_signs_in_and_gets_a_code_at_the_redirect_uri_with_state_and_iss() {
    let server = TestServer::spawn(&people_toml()).await;
    let browser = browser();
    let page = browser
        .get(authorize_url(&server, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' http://localhost:5002"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Acme sign-in") && html.contains(r#"lang="en""#));
    assert!(html.contains(r#"autocomplete="current-password""#));
    let done = post_sign_in(&server, &browser, &pending(&html), "alice", "alice").await;
    assert_eq!(done.status(), 303);
    let cookie = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tollgate_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let location = done.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(CB), "{location}");
    let q = query_of(location);
    assert!(q["code"].len() > 40);
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], server.issuer());
    // Signed in: the next request gets a code at once.
    let again = browser
        .get(authorize_url(&server, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_page() {
    let server = TestServer::spawn(&people_toml()).await;
    let browser = browser();
    let html = sign_in_page(&server, &browser).await;
    let mut answers = Vec::new();
    for (name, password) in [("alice", "wrong"), ("nobody", "alice")] {
        let r = post_sign_in(&server, &browser, &pending(&html), name, password).await;
        let status = r.status();
        let assigned = r.headers().get("set-cookie").is_some();
        // The page less what differs by design: the new sealed form and
        // the username filled in again.
        let body = r.text().await.unwrap();
        let body = body.replace(&pending(&body), "").replace(name, "");
        answers.push((status, assigned, body));
    }
    assert_eq!(answers[0].0, 200);
    assert!(!answers[0].1, "no session");
    assert!(answers[0].2.contains(r#"role="alert""#));
    assert!(
        answers[0]
            .2
            .contains("The username or password is not right.")
    );
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn a_sign_in_posted_without_the_browsers_csrf_cookie_is_refused() {
    let server = TestServer::spawn(&people_toml()).await;
    let html = sign_in_page(&server, &browser()).await;
    // Another browser (a cross-site form has no cookie of ours).
    let r = post_sign_in(&server, &browser(), &pending(&html), "alice", "alice").await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required_at_the_redirect_uri() {
    let server = TestServer::spawn(&people_toml()).await;
    let r = browser()
        .get(authorize_url(&server, "&prompt=none"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "login_required");
    assert_eq!(
        (q["state"].as_str(), q["iss"].clone()),
        ("xyz", server.issuer())
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_a_page_never_a_redirect() {
    let server = TestServer::spawn(&people_toml()).await;
    let url = authorize_url(&server, "").replace(
        &form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>(),
        "https%3A%2F%2Fevil.example%2Fcb",
    );
    let r = browser().get(url).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("not registered"));
}

#[tokio::test]
async fn end_session_clears_the_cookie_and_redirects_only_to_a_registered_uri() {
    let server = TestServer::spawn(&people_toml()).await;
    let browser = browser();
    let html = sign_in_page(&server, &browser).await;
    let done = post_sign_in(&server, &browser, &pending(&html), "alice", "alice").await;
    assert_eq!(done.status(), 303);
    let elsewhere = browser
        .get(server.url(
            "/connect/endsession?client_id=web&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        200,
        "no redirect to an unregistered URI"
    );
    assert!(
        elsewhere
            .text()
            .await
            .unwrap()
            .contains("You are signed out")
    );
    let back = browser
        .get(server.url(&format!(
            "/connect/endsession?client_id=web&post_logout_redirect_uri={}&state=s1",
            form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(
        back.headers()["location"],
        format!("{AFTER_LOGOUT}?state=s1")
    );
    let cleared = back.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("tollgate_session=;"), "{cleared}");
    // Signed out: the endpoint asks her to sign in again.
    let next = browser
        .get(authorize_url(&server, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
}

#[tokio::test]
async fn passwords_never_reach_the_log() {
    let (right, wrong) = ("Pa55-w0rd-of-Alice", "Wr0ng-Guess-77");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, people_toml_with(right)).unwrap();
    let mut server = start_logged(&config, "trace", &[]).await;
    let base = format!("http://{}", server.addr);
    let browser = browser();
    for password in [wrong, right] {
        let html = browser
            .get(authorize_at(&base, ""))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        browser
            .post(format!("{base}/connect/authorize/signin"))
            .form(&[
                ("pending", pending(&html).as_str()),
                ("username", "alice"),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
    }
    eventually(Duration::from_secs(5), "the sign-ins' audit lines", || {
        let log = server.log.lock().unwrap();
        let done = log.contains("sign_in_failed") && log.contains("signed_in");
        std::future::ready(done.then_some(()))
    })
    .await;
    let log = server.stop();
    assert!(
        log.contains("wrong_password"),
        "the reason is audited: {log}"
    );
    for password in [right, wrong] {
        assert!(!log.contains(password), "{password:?} leaked into the log");
    }
}

/// An unknown user, a disabled one and a wrong password: seven
/// interleaved rounds, each failure timed from the post to the page;
/// within a round the slowest no more than 25 % above the fastest (the
/// median over rounds: see `support::timing`).
#[tokio::test]
async fn every_failed_sign_in_takes_as_long() {
    let server = TestServer::spawn(&people_toml()).await;
    let browser = browser();
    let html = sign_in_page(&server, &browser).await;
    let cases = [("nobody", "nobody"), ("carol", "carol"), ("alice", "wrong")];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    // A round untimed first (the first Argon2 runs allocate), then seven.
    for round in 0..8 {
        for (i, (name, password)) in cases.iter().enumerate() {
            let started = std::time::Instant::now();
            let r = post_sign_in(&server, &browser, &pending(&html), name, password).await;
            assert_eq!(r.status(), 200);
            if round > 0 {
                times[i].push(started.elapsed());
            }
        }
    }
    let spread = crate::support::spread_within_rounds(&times);
    assert!(
        spread <= 1.25,
        "slowest to fastest within a round, median over rounds: {spread:.2} \
         (unknown, disabled, wrong password: {times:?})"
    );
    eprintln!("failed sign-ins, spread within rounds {spread:.2}: {times:?}");
}

#[tokio::test]
async fn the_forms_endpoints_take_only_post_and_say_so() {
    let server = TestServer::spawn(&people_toml()).await;
    for path in ["/connect/authorize/signin", "/connect/authorize/consent"] {
        let r = browser().get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 405, "{path}");
        assert_eq!(r.headers()["allow"], "POST", "{path}");
    }
    let r = browser()
        .put(server.url("/connect/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), &r.headers()["allow"]),
        (405, &"GET, POST".parse().unwrap())
    );
}

/// A client that asks: the consent page names it and the host it sends
/// her back to; Deny is `access_denied` at the redirect URI, Allow the
/// code. Under an https issuer the cookies are `Secure`.
#[tokio::test]
async fn consent_is_asked_and_deny_is_access_denied() {
    let toml = format!(
        "issuer = \"https://id.example\"\n{}",
        people_toml().replace(
            "client_id = \"web\"\npublic = true",
            "client_id = \"web\"\npublic = true\nrequire_consent = true\ndisplay_name = \"Web App\""
        )
    );
    let server = TestServer::spawn(&toml).await;
    let browser = browser();
    let first = browser
        .get(authorize_url(&server, ""))
        .send()
        .await
        .unwrap();
    let csrf = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        csrf.contains("Secure") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
    let html = first.text().await.unwrap();
    // The https cookies travel only over https: post them by hand.
    let cookie = csrf.split(';').next().unwrap().to_owned();
    let signed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = signed
        .post(server.url("/connect/authorize/signin"))
        .header("cookie", &cookie)
        .form(&[
            ("pending", pending(&html).as_str()),
            ("username", "alice"),
            ("password", "alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the consent page");
    let session = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        session.starts_with("tollgate_session=") && session.contains("Secure"),
        "{session}"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Allow Web App access?") && page.contains("localhost"),
        "{page}"
    );
    let both = format!("{cookie}; {}", session.split(';').next().unwrap());
    let decide = |decision: &'static str| {
        signed
            .post(server.url("/connect/authorize/consent"))
            .header("cookie", both.clone())
            .form(&[
                ("pending", pending(&page)),
                ("decision", decision.to_owned()),
            ])
            .send()
    };
    let denied = decide("deny").await.unwrap();
    assert_eq!(denied.status(), 303);
    let q = query_of(denied.headers()["location"].to_str().unwrap());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("access_denied", "xyz")
    );
    let allowed = decide("allow").await.unwrap();
    assert_eq!(allowed.status(), 303);
    assert!(query_of(allowed.headers()["location"].to_str().unwrap()).contains_key("code"));
}

/// tollgate's own page, `/`: who is signed in here and the way out, and
/// the developers' links, under the pages' headers; a session that no
/// longer stands (a tampered cookie) is cleared there too.
#[tokio::test]
async fn the_home_page_says_who_is_signed_in_and_links_the_way_out() {
    let server = TestServer::spawn(&people_toml()).await;
    let browser = browser();
    let page = browser.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(headers.contains_key("content-security-policy"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Acme sign-in") && html.contains("You are not signed in"));
    for link in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/docs",
    ] {
        assert!(
            html.contains(&format!("href=\"{}{link}\"", server.issuer())),
            "{link}"
        );
    }
    let html = sign_in_page(&server, &browser).await;
    let done = post_sign_in(&server, &browser, &pending(&html), "alice", "alice").await;
    assert_eq!(done.status(), 303);
    let html = browser
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("signed in as <strong>alice</strong>"),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{}/connect/endsession\"", server.issuer())));
    // Another browser with a cookie that does not open: cleared.
    let forged = reqwest::Client::new()
        .get(server.url("/"))
        .header("cookie", "tollgate_session=forged")
        .send()
        .await
        .unwrap();
    let cleared = forged.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with("tollgate_session=;"), "{cleared}");
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("You are not signed in")
    );
    let posted = browser.post(server.url("/")).send().await.unwrap();
    assert_eq!(posted.status(), 405);
}
