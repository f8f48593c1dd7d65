//! Clients named by a URL (Client ID Metadata Documents): the file's
//! patterns, and documents served on loopback, hostile ones refused each
//! time with nothing fetched beyond the limits.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    Answer, DocumentServer, Signer, TestServer, assertion_form, hash, jwt_parts, metric,
    refused_at, scrape, start_logged, unique,
};

/// The file: `mcp:tools`, alice who signs in, and URLs under `allow`
/// naming clients.
fn toml(allow: &[String]) -> String {
    let allow: Vec<String> = allow.iter().map(|a| format!("{a:?}")).collect();
    format!(
        r#"
[[api_scopes]]
name = "mcp:tools"

[client_metadata_documents]
allow = [{}]
allowed_scopes = ["mcp:tools", "openid"]

[login]

[[users]]
username = "alice"
password_hash = "{}"
"#,
        allow.join(", "),
        hash("alice"),
    )
}

/// A public client's document at `url`.
fn document(url: &str) -> String {
    json!({
        "client_id": url,
        "client_name": "Example IDE",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "token_endpoint_auth_method": "none",
    })
    .to_string()
}

/// The authorization request of `client_id` with `redirect_uri` (PKCE
/// S256): status and body, the page a browser shows.
async fn authorize(server: &TestServer, client_id: &str, redirect_uri: &str) -> (u16, String) {
    let url = url::Url::parse_with_params(
        &server.url("/connect/authorize"),
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "mcp:tools"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let r = server.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// RFC 7636 Appendix B's challenge, and its verifier.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// How many lookups ended with `outcome`.
async fn outcomes(server: &TestServer, outcome: &str) -> f64 {
    let text = scrape(&server.http, server.addr).await;
    metric(
        &text,
        &format!("tollgate_client_metadata_documents_total{{outcome=\"{outcome}\"}}"),
    )
}

#[test]
fn check_refuses_a_star_alone_a_pattern_without_a_host_and_http_beyond_loopback() {
    for (pattern, says) in [
        ("*", "alone"),
        ("/clients/*", "scheme and a host"),
        ("https://*.example.com/c", "literal"),
        ("http://app.example.com/*", "loopback"),
    ] {
        let problem = refused_at(
            &toml(&[pattern.to_owned()]),
            "client_metadata_documents.allow[0]",
        );
        assert!(
            problem.message.contains(says),
            "{pattern}: {}",
            problem.message
        );
    }
    let unknown_scope =
        toml(&["https://app.example.com/*".into()]).replace("\"openid\"", "\"nope\"");
    refused_at(
        &unknown_scope,
        "client_metadata_documents.allowed_scopes[1]",
    );
}

#[tokio::test]
async fn discovery_says_documents_are_supported_only_when_urls_are_allowed() {
    let server = TestServer::spawn(&toml(&["https://app.example.com/*".into()])).await;
    let doc: Value = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(doc["client_id_metadata_document_supported"], true);
    let server = TestServer::spawn(&toml(&[])).await;
    let doc: Value = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert!(doc.get("client_id_metadata_document_supported").is_none());
}

#[tokio::test]
async fn a_good_document_is_fetched_once_and_its_redirect_uris_are_the_only_ones() {
    let documents = DocumentServer::start().await;
    let url = format!("{}/ide.json", documents.base());
    documents.answer("/ide.json", Answer::Document(document(&url), 600));
    let server = TestServer::spawn(&toml(&[format!("{}/*", documents.base())])).await;
    // Loopback on any port, as for the file's clients: the sign-in page.
    let (status, page) = authorize(&server, &url, "http://127.0.0.1:53122/callback").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("name=\"username\""), "{page}");
    let (status, _) = authorize(&server, &url, "https://evil.example/callback").await;
    assert_eq!(status, 400);
    assert_eq!(documents.requests("/ide.json"), 1, "kept per Cache-Control");
    assert_eq!(outcomes(&server, "accepted").await, 2.0);
}

#[tokio::test]
async fn hostile_documents_are_refused_each_time_with_nothing_fetched_beyond_the_limits() {
    let documents = DocumentServer::start().await;
    let base = documents.base();
    let named = |path: &str| format!("{base}{path}");
    documents.answer("/redirect.json", Answer::Redirect(named("/target.json")));
    documents.answer(
        "/target.json",
        Answer::Document(document(&named("/redirect.json")), 600),
    );
    documents.answer("/large.json", Answer::Sized(6 * 1024));
    documents.answer("/endless.json", Answer::Endless);
    documents.answer("/slow.json", Answer::Stall);
    documents.answer(
        "/wrong-id.json",
        Answer::Document(document(&named("/other.json")), 600),
    );
    documents.answer(
        "/by-name.json",
        Answer::Document(
            document(&format!("http://localhost:{}/by-name.json", documents.port)),
            600,
        ),
    );
    let server = TestServer::spawn(&toml(&[
        format!("{base}/*"),
        // A name that resolves to loopback: the pattern does not name the
        // address, so nothing is fetched.
        format!("http://localhost:{}/*", documents.port),
    ]))
    .await;
    // The page of a URL no pattern allows: every refused document gets it.
    let (_, unknown) = authorize(
        &server,
        &format!("{base}/../x"),
        "http://127.0.0.1/callback",
    )
    .await;
    let refused = |client_id: String, outcome: &'static str| {
        let server = &server;
        let unknown = &unknown;
        async move {
            let started = Instant::now();
            let (status, page) = authorize(server, &client_id, "http://127.0.0.1/callback").await;
            assert_eq!(status, 400, "{client_id}");
            assert_eq!(&page, unknown, "{client_id}");
            (outcome, started.elapsed())
        }
    };
    let results = tokio::join!(
        refused(named("/redirect.json"), "status"),
        refused(named("/large.json"), "too_large"),
        refused(named("/endless.json"), "too_large"),
        refused(named("/slow.json"), "unreachable"),
        refused(named("/wrong-id.json"), "client_id_mismatch"),
        refused(
            format!("http://localhost:{}/by-name.json", documents.port),
            "address"
        ),
    );
    let results = [
        results.0, results.1, results.2, results.3, results.4, results.5,
    ];
    for (outcome, took) in results {
        let limit = if outcome == "unreachable" { 7 } else { 3 };
        assert!(took < Duration::from_secs(limit), "{outcome} took {took:?}");
    }
    // The stalled server was waited on for the whole 5 s, not less.
    assert!(results[3].1 >= Duration::from_secs(5), "{:?}", results[3].1);
    assert_eq!(
        documents.requests("/target.json"),
        0,
        "a redirect is never followed"
    );
    assert_eq!(
        documents.requests("/by-name.json"),
        0,
        "an inside address is never asked"
    );
    for (outcome, count) in [
        ("status", 1.0),
        ("too_large", 2.0),
        ("unreachable", 1.0),
        ("client_id_mismatch", 1.0),
        ("address", 1.0),
    ] {
        assert_eq!(outcomes(&server, outcome).await, count, "{outcome}");
    }
    // Refused documents are not kept: each request fetches again.
    let before = documents.all_requests();
    refused(named("/wrong-id.json"), "client_id_mismatch").await;
    assert_eq!(documents.all_requests(), before + 1);
}

/// The token endpoint looks a URL client up as the authorization
/// endpoint does: a client whose document names its keys authenticates
/// (`private_key_jwt`), and is then refused the grant it may not use,
/// where an unknown client would be `invalid_client`.
#[tokio::test]
async fn the_token_endpoint_finds_a_client_named_by_a_url() {
    let key = Signer::new(tollgate::Algorithm::ES256);
    let documents = DocumentServer::start().await;
    let url = format!("{}/agent.json", documents.base());
    documents.answer(
        "/agent.json",
        Answer::Document(
            json!({
                "client_id": url,
                "redirect_uris": ["https://agent.example/callback"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": { "keys": [key.jwk] },
            })
            .to_string(),
            600,
        ),
    );
    let server = TestServer::spawn(&toml(&[format!("{}/*", documents.base())])).await;
    let token = |client_id: String| {
        let server = &server;
        let key = &key;
        async move {
            let now = crate::support::now().unix_timestamp();
            let assertion = key.sign(
                None,
                &json!({
                    "iss": client_id, "sub": client_id, "aud": server.issuer(),
                    "iat": now, "exp": now + 60, "jti": format!("j{}", unique()),
                }),
            );
            let form = format!(
                "{}&client_id={}",
                assertion_form(&assertion),
                url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
            );
            let r = server
                .http
                .post(server.url("/connect/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap();
            let body: Value = r.json().await.unwrap();
            body["error"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(token(url.clone()).await, "unauthorized_client");
    let unknown = format!("{}/nobody.json", documents.base());
    assert_eq!(token(unknown).await, "invalid_client");
    assert_eq!(documents.requests("/agent.json"), 1);
}

/// The value of the hidden `pending` field of a page.
fn pending(html: &str) -> String {
    let at = html.find(r#"name="pending" value=""#).expect("a form") + 22;
    html[at..].split('"').next().unwrap().to_owned()
}

/// Consent is asked of every URL client, and the page names it by its
/// URL's host, first; the name its document gives comes second. The code
/// it gets is redeemed at the token endpoint by the same resolution (the
/// document from the cache).
#[tokio::test]
async fn a_url_client_is_asked_about_by_its_host_and_redeems_its_code_with_its_client_id_alone() {
    let documents = DocumentServer::start().await;
    let url = format!("{}/ide.json", documents.base());
    documents.answer("/ide.json", Answer::Document(document(&url), 600));
    let server = TestServer::spawn(&toml(&[format!("{}/*", documents.base())])).await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = url::Url::parse_with_params(
        &server.url("/connect/authorize"),
        [
            ("response_type", "code"),
            ("client_id", url.as_str()),
            ("redirect_uri", "http://127.0.0.1:40000/callback"),
            ("scope", "mcp:tools"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let html = browser
        .get(authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = browser
        .post(server.url("/connect/authorize/signin"))
        .form(&[
            ("pending", pending(&html).as_str()),
            ("username", "alice"),
            ("password", "alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the consent page");
    let page = r.text().await.unwrap();
    let host = format!("127.0.0.1:{}", documents.port);
    let heading = page.find(&format!("Allow {host} access?")).expect(&page);
    let claimed = page.find("It calls itself “Example IDE”").expect(&page);
    assert!(heading < claimed, "{page}");
    assert!(!page.contains("Allow Example IDE"), "{page}");

    // Allowed: the code, redeemed by the URL client with its client_id
    // alone (a public client, `none`) and the PKCE verifier.
    let allowed = browser
        .post(server.url("/connect/authorize/consent"))
        .form(&[("pending", pending(&page).as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 303);
    let location = url::Url::parse(allowed.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let r = server
        .http
        .post(server.url("/connect/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:40000/callback"),
            ("code_verifier", VERIFIER),
            ("client_id", url.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let (_, claims) = jwt_parts(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], url.as_str());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(documents.requests("/ide.json"), 1, "kept per Cache-Control");
}

/// The person sees one page; the operator reads why in the audit line.
#[tokio::test]
async fn the_audit_line_says_why_a_document_was_refused() {
    let documents = DocumentServer::start().await;
    let url = format!("{}/wrong-id.json", documents.base());
    documents.answer(
        "/wrong-id.json",
        Answer::Document(document(&format!("{}/other.json", documents.base())), 600),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("identity.toml");
    std::fs::write(&file, toml(&[format!("{}/*", documents.base())])).unwrap();
    let mut server = start_logged(&file, "info", &[]).await;
    let authorize = url::Url::parse_with_params(
        &format!("http://{}/connect/authorize", server.addr),
        [
            ("response_type", "code"),
            ("client_id", url.as_str()),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let status = reqwest::get(authorize).await.unwrap().status();
    assert_eq!(status, 400);
    server.logged("document=\"client_id_mismatch\"").await;
    let log = server.stop();
    let line = log
        .lines()
        .find(|l| l.contains("document=\"client_id_mismatch\""))
        .unwrap();
    assert!(
        line.contains("its client_id is not the URL it was fetched from"),
        "{line}"
    );
    assert!(line.contains(&url), "{line}");
}
