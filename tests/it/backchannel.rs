//! OpenID Connect Back-Channel Logout 1.0, with no database: the `sid` of
//! a sign-in's id tokens (at the code and at each refresh), the session
//! cookie's clients, one logout token per client of the session with a
//! `backchannel_logout_uri` when she signs out — its signature, header and
//! claims as a relying party checks them (§2.6) —, each delivery audited
//! and counted, a receiver that refuses or never answers, the browser's
//! answer held by none; the key's refusals; discovery.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    REDIRECT, Receiver, Reply, TestServer, basic, code_in_session, cookie_browser, eventually,
    hash, jwt_parts, quickstart_toml, redeem_form, refused_at, sign_in_for_code, start_logged,
    verify_at,
};

/// alice (password `alice`); the public `spa`, without a back-channel
/// URI; and a confidential client (secret `secret`) for each of
/// `clients`, with its `backchannel_logout_uri`.
fn file(clients: &[(&str, &str)]) -> String {
    let grants = format!(
        "allowed_grant_types = [\"authorization_code\", \"refresh_token\"]\n\
         redirect_uris = [\"{REDIRECT}\"]\n\
         allowed_scopes = [\"openid\", \"offline_access\"]"
    );
    let mut toml = format!(
        "[login]\n\n[[users]]\nusername = \"alice\"\npassword_hash = \"{}\"\n\n\
         [[clients]]\nclient_id = \"spa\"\npublic = true\n{grants}\n",
        hash("alice")
    );
    for (id, uri) in clients {
        toml.push_str(&format!(
            "\n[[clients]]\nclient_id = \"{id}\"\n{grants}\nbackchannel_logout_uri = \"{uri}\"\n\
             [[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        ));
    }
    toml
}

/// A server process of [`file`] with its log, and its root URL.
async fn logged_server(
    clients: &[(&str, &str)],
) -> (crate::support::Logged, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, file(clients)).unwrap();
    let server = start_logged(&config, "info", &[]).await;
    let base = format!("http://{}", server.addr);
    (server, base, dir)
}

/// `client`'s token request with its secret: the JSON answer.
async fn token(base: &str, client: &str, body: String) -> Value {
    let answer = reqwest::Client::new()
        .post(format!("{base}/connect/token"))
        .header("Authorization", basic(client, "secret"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// The browser's `/connect/endsession`, and how long its answer took.
async fn end_session(browser: &reqwest::Client, base: &str) -> Duration {
    let started = Instant::now();
    let answer = browser
        .get(format!("{base}/connect/endsession"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "the signed-out page");
    let cleared = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with("tollgate_session=;"), "{cleared}");
    started.elapsed()
}

/// The public metrics' value of `series`, once it is there.
async fn metric(base: &str, series: &str) -> String {
    eventually(Duration::from_secs(5), series, || async {
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(series))
            .map(|v| v.trim().to_owned())
    })
    .await
}

#[tokio::test]
async fn signing_out_posts_one_logout_token_that_verifies_to_the_client_of_the_session() {
    let receiver = Receiver::start(Reply::Ok).await;
    let (mut server, base, _dir) = logged_server(&[("web", &receiver.uri)]).await;
    let browser = cookie_browser();
    // She signs in to spa, then to web in the same session (no page: the
    // session's cookie is set again to name web).
    sign_in_for_code(&browser, &base, "spa", "openid", "alice", "alice").await;
    let code = code_in_session(&browser, &base, "web", "openid offline_access").await;
    let tokens = token(&base, "web", redeem_form(&code, None)).await;
    let http = reqwest::Client::new();
    let id = verify_at(&http, &base, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    let sid = id["sid"].as_str().expect("the id token names the session");
    assert!(sid.len() >= 16, "{sid}");
    let refreshed = token(
        &base,
        "web",
        format!(
            "grant_type=refresh_token&refresh_token={}",
            tokens["refresh_token"].as_str().unwrap()
        ),
    )
    .await;
    let (_, again) = jwt_parts(refreshed["id_token"].as_str().unwrap());
    assert_eq!(again["sid"], sid, "a refresh names the same session");

    end_session(&browser, &base).await;
    server.logged("notified=1").await;
    server.logged("delivery=\"delivered\"").await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "exactly one logout token: {received:?}");
    assert_eq!(
        received[0].content_type,
        "application/x-www-form-urlencoded"
    );
    assert_eq!(received[0].form.len(), 1, "{:?}", received[0].form);
    let (name, logout_token) = &received[0].form[0];
    assert_eq!(name, "logout_token");
    let claims = verify_at(&http, &base, logout_token)
        .await
        .expect("signed by a key of the JWKS");
    let (header, _) = jwt_parts(logout_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], base);
    assert_eq!(claims["aud"], "web");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["sid"], sid);
    assert_eq!(
        claims["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert!(claims.get("nonce").is_none(), "never a nonce: {claims}");
    assert_eq!(
        metric(
            &base,
            "tollgate_backchannel_logouts_total{outcome=\"delivered\"}"
        )
        .await,
        "1"
    );
    let log = server.stop();
    let line = log
        .lines()
        .find(|l| l.contains("outcome=\"backchannel_logout\""))
        .unwrap();
    assert!(line.contains("client_id=web"), "{line}");
    assert!(line.contains("user=alice"), "{line}");
    assert!(!line.contains(logout_token.as_str()), "never the token");
}

#[tokio::test]
async fn a_receiver_that_answers_500_is_audited_as_refused_with_its_status() {
    let receiver = Receiver::start(Reply::Status(500)).await;
    let (mut server, base, _dir) = logged_server(&[("web", &receiver.uri)]).await;
    let browser = cookie_browser();
    sign_in_for_code(&browser, &base, "web", "openid", "alice", "alice").await;
    end_session(&browser, &base).await;
    server.logged("delivery=\"refused\"").await;
    assert_eq!(receiver.received().len(), 1, "not retried");
    assert_eq!(
        metric(
            &base,
            "tollgate_backchannel_logouts_total{outcome=\"refused\"}"
        )
        .await,
        "1"
    );
    let log = server.stop();
    let line = log
        .lines()
        .find(|l| l.contains("delivery=\"refused\""))
        .unwrap();
    assert!(line.contains("status=500"), "{line}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_the_browsers_answer() {
    let receiver = Receiver::start(Reply::Never).await;
    let (server, base, _dir) = logged_server(&[("web", &receiver.uri)]).await;
    let browser = cookie_browser();
    sign_in_for_code(&browser, &base, "web", "openid", "alice", "alice").await;
    let took = end_session(&browser, &base).await;
    // The answer is here; the delivery is under way, or yet to start.
    assert!(took < Duration::from_secs(2), "the answer took {took:?}");
    eventually(Duration::from_secs(5), "the delivery", || {
        std::future::ready((!receiver.received().is_empty()).then_some(()))
    })
    .await;
    // The receiver hangs, and the delivery waits for it still.
    assert!(
        !server.log.lock().unwrap().contains("delivery="),
        "the delivery ended before its time limit"
    );
    server.logged("delivery=\"unreachable\"").await;
    assert_eq!(
        metric(
            &base,
            "tollgate_backchannel_logouts_total{outcome=\"unreachable\"}"
        )
        .await,
        "1"
    );
}

#[test]
fn backchannel_logout_uri_is_refused_at_its_line_unless_it_is_https_or_loopback_http() {
    let with = |uri: &str| file(&[("web", uri)]);
    let cases = [
        (
            with("http://app.example/logout"),
            "plain http beyond loopback",
        ),
        (with("https://app.example/logout#now"), "fragment"),
        (with("/logout"), "absolute URL"),
        (with("ftp://app.example/logout"), "https URL"),
    ];
    for (toml, words) in cases {
        let line = toml
            .lines()
            .position(|l| l.starts_with("backchannel_logout_uri"))
            .unwrap()
            + 1;
        let problem = refused_at(&toml, "clients[1].backchannel_logout_uri");
        assert!(problem.message.contains(words), "{words}: {problem:?}");
        assert_eq!(problem.line, Some(line), "{problem:?}");
    }
    // A machine client: no person signs out of it.
    let machine = quickstart_toml().replacen(
        "allowed_scopes = [\"api1\"]\n",
        "allowed_scopes = [\"api1\"]\nbackchannel_logout_uri = \"https://app.example/logout\"\n",
        1,
    );
    let problem = refused_at(&machine, "clients[0].backchannel_logout_uri");
    assert!(
        problem.message.contains("needs authorization_code"),
        "{problem:?}"
    );
    assert!(problem.hint.is_some(), "{problem:?}");

    for uri in [
        "https://app.example/logout?tenant=1",
        "http://127.0.0.1:9000/logout",
        "http://localhost/logout",
        "http://[::1]/logout",
    ] {
        let config = tollgate::Config::from_toml(
            &with(uri),
            Path::new("identity.toml"),
            crate::support::now(),
        )
        .unwrap_or_else(|e| panic!("{uri}: {e:?}"));
        let web = config.registry.client("web").unwrap();
        assert_eq!(
            web.backchannel_logout_uri.as_ref().map(url::Url::as_str),
            Some(uri)
        );
    }
}

#[tokio::test]
async fn discovery_says_back_channel_logout_with_sessions_when_people_sign_in() {
    let people = TestServer::spawn(&file(&[])).await;
    let doc: Value = people.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    assert!(
        doc["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&"sid".into())
    );
    let machines = TestServer::spawn(&quickstart_toml()).await;
    let doc: Value = machines.get_json("/.well-known/openid-configuration").await;
    assert!(doc.get("backchannel_logout_supported").is_none(), "{doc}");
    assert!(
        doc.get("backchannel_logout_session_supported").is_none(),
        "{doc}"
    );
}
