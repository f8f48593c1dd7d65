//! The token endpoint against RFC 6749: successes and the whole §5.2 error
//! matrix, as a table.

use crate::support::{TestServer, basic, basic_raw, hash};

fn matrix_toml() -> String {
    format!(
        r#"
[[api_scopes]]
name = "api1"
[[api_scopes]]
name = "api2"
[[api_scopes]]
name = "api3"

[[clients]]
client_id = "client"
allowed_scopes = ["api1", "api2"]
[[clients.secrets]]
hash = "{secret}"

[[clients]]
client_id = "weird:id %+"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{weird}"

[[clients]]
client_id = "rotating"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{old}"
expires = 2020-01-01T00:00:00Z
[[clients.secrets]]
hash = "{new}"
expires = 2999-01-01T00:00:00Z

[[clients]]
client_id = "disabled"
enabled = false
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{secret}"

[[clients]]
client_id = "nogrants"
allowed_grant_types = []
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{secret}"
"#,
        secret = hash("secret"),
        weird = hash("p:a%s+s w"),
        old = hash("old"),
        new = hash("new"),
    )
}

const CC: &str = "grant_type=client_credentials";

struct Case {
    name: &'static str,
    body: &'static str,
    content_type: Option<&'static str>,
    auth: Option<String>,
    status: u16,
    error: &'static str,
    basic_challenge: bool,
}

fn case(
    name: &'static str,
    body: &'static str,
    auth: Option<String>,
    status: u16,
    error: &'static str,
) -> Case {
    Case {
        name,
        body,
        content_type: Some("application/x-www-form-urlencoded"),
        basic_challenge: status == 401 && auth.as_deref().is_some(),
        auth,
        status,
        error,
    }
}

#[tokio::test]
async fn every_rfc_6749_error_has_its_code_status_and_headers() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let good = || Some(basic("client", "secret"));
    let cases = vec![
        // invalid_request
        case(
            "missing grant_type",
            "scope=api1",
            good(),
            400,
            "invalid_request",
        ),
        case(
            "repeated grant_type",
            "grant_type=client_credentials&grant_type=client_credentials",
            good(),
            400,
            "invalid_request",
        ),
        case(
            "repeated scope",
            "grant_type=client_credentials&scope=api1&scope=api1",
            good(),
            400,
            "invalid_request",
        ),
        case(
            "basic and client_secret",
            "grant_type=client_credentials&client_id=client&client_secret=secret",
            good(),
            400,
            "invalid_request",
        ),
        case(
            "different client_id in body",
            "grant_type=client_credentials&client_id=other",
            good(),
            400,
            "invalid_request",
        ),
        case(
            "client_secret without client_id",
            "grant_type=client_credentials&client_secret=secret",
            None,
            401,
            "invalid_client",
        ),
        case(
            "garbage body",
            "%%%\u{1}&&==&",
            good(),
            400,
            "invalid_request",
        ),
        Case {
            content_type: Some("application/json"),
            ..case(
                "json body",
                r#"{"grant_type":"client_credentials"}"#,
                good(),
                400,
                "invalid_request",
            )
        },
        Case {
            content_type: None,
            ..case("no content type", CC, good(), 400, "invalid_request")
        },
        Case {
            content_type: Some("text/plain"),
            ..case("text body", CC, good(), 400, "invalid_request")
        },
        // invalid_client
        case(
            "wrong secret",
            CC,
            Some(basic("client", "wrong")),
            401,
            "invalid_client",
        ),
        case(
            "unknown client",
            CC,
            Some(basic("nobody", "secret")),
            401,
            "invalid_client",
        ),
        case(
            "expired secret",
            CC,
            Some(basic("rotating", "old")),
            401,
            "invalid_client",
        ),
        case(
            "disabled client",
            CC,
            Some(basic("disabled", "secret")),
            401,
            "invalid_client",
        ),
        case("no authentication", CC, None, 401, "invalid_client"),
        case(
            "client_id without secret",
            "grant_type=client_credentials&client_id=client",
            None,
            401,
            "invalid_client",
        ),
        case(
            "wrong secret in body",
            "grant_type=client_credentials&client_id=client&client_secret=wrong",
            None,
            401,
            "invalid_client",
        ),
        case(
            "bearer scheme",
            CC,
            Some("Bearer abc".into()),
            401,
            "invalid_client",
        ),
        case(
            "basic not base64",
            CC,
            Some("Basic !!!notbase64".into()),
            401,
            "invalid_client",
        ),
        case(
            "basic without colon",
            CC,
            Some(basic_raw("clientsecret")),
            401,
            "invalid_client",
        ),
        case(
            "basic scheme alone",
            CC,
            Some("Basic".into()),
            401,
            "invalid_client",
        ),
        // unsupported_grant_type, unauthorized_client
        case(
            "password grant",
            "grant_type=password&username=a&password=b",
            good(),
            400,
            "unsupported_grant_type",
        ),
        case(
            "made-up grant",
            "grant_type=magic",
            good(),
            400,
            "unsupported_grant_type",
        ),
        case(
            "client without the grant",
            CC,
            Some(basic("nogrants", "secret")),
            400,
            "unauthorized_client",
        ),
        // invalid_scope
        case(
            "scope not allowed",
            "grant_type=client_credentials&scope=api3",
            good(),
            400,
            "invalid_scope",
        ),
        case(
            "unknown scope",
            "grant_type=client_credentials&scope=nope",
            good(),
            400,
            "invalid_scope",
        ),
        case(
            "one bad scope of two",
            "grant_type=client_credentials&scope=api1%20nope",
            good(),
            400,
            "invalid_scope",
        ),
        case(
            "malformed scope",
            "grant_type=client_credentials&scope=api1%22",
            good(),
            400,
            "invalid_scope",
        ),
    ];
    for c in cases {
        let mut req = server.http.post(server.url("/connect/token")).body(c.body);
        if let Some(ct) = c.content_type {
            req = req.header("Content-Type", ct);
        }
        if let Some(a) = &c.auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), c.status, "{}: status", c.name);
        assert_eq!(
            r.headers()["cache-control"],
            "no-store",
            "{}: Cache-Control",
            c.name
        );
        assert_eq!(r.headers()["pragma"], "no-cache", "{}: Pragma", c.name);
        let challenge = r
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        if c.basic_challenge {
            assert!(
                challenge.as_deref().is_some_and(|v| v.starts_with("Basic")),
                "{}: WWW-Authenticate",
                c.name
            );
        } else {
            assert_eq!(challenge, None, "{}: no WWW-Authenticate", c.name);
        }
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], c.error, "{}: error code in {body}", c.name);
        assert!(
            body["error_description"].is_string(),
            "{}: error_description",
            c.name
        );
    }
}

#[tokio::test]
async fn every_invalid_client_cause_gets_the_same_body() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let mut bodies = Vec::new();
    for (id, secret) in [
        ("client", "wrong"),
        ("nobody", "secret"),
        ("rotating", "old"),
        ("disabled", "secret"),
    ] {
        let r = server.token_raw(CC, Some(&basic(id, secret))).await;
        bodies.push(r.bytes().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}

#[tokio::test]
async fn a_valid_request_gets_a_bearer_token_that_is_not_cached() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let r = server
        .token_raw(
            "grant_type=client_credentials&scope=api1",
            Some(&basic("client", "secret")),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "api1");
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
}

#[tokio::test]
async fn client_secret_post_works_too() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let r = server
        .token_raw(
            "grant_type=client_credentials&client_id=client&client_secret=secret&scope=api2",
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "api2");
}

#[tokio::test]
async fn basic_with_the_same_client_id_repeated_in_the_body_is_accepted() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let r = server
        .token_raw(
            "grant_type=client_credentials&client_id=client",
            Some(&basic("client", "secret")),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_omitted_or_empty_scope_grants_every_allowed_scope() {
    let server = TestServer::spawn(&matrix_toml()).await;
    for body in [CC, "grant_type=client_credentials&scope="] {
        let r = server
            .token_raw(body, Some(&basic("client", "secret")))
            .await;
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["scope"], "api1 api2");
    }
}

#[tokio::test]
async fn ids_and_secrets_with_reserved_characters_work_when_form_encoded() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let token = server.token("weird:id %+", "p:a%s+s w", None).await;
    assert_eq!(token["scope"], "api1");
    // The same credentials sent without the RFC's encoding must not match.
    let r = server
        .token_raw(CC, Some(&basic_raw("weird:id %+:p:a%s+s w")))
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn unencoded_basic_works_for_secrets_of_unreserved_characters() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let r = server
        .token_raw(CC, Some(&basic_raw("client:secret")))
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn any_unexpired_secret_of_a_client_authenticates_it() {
    let server = TestServer::spawn(&matrix_toml()).await;
    server.token("rotating", "new", None).await;
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let r = server
        .token_raw(
            "grant_type=client_credentials&foo=1&foo=2&audience=x",
            Some(&basic("client", "secret")),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_not_allowed() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let r = server
        .http
        .get(server.url("/connect/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn verified_secrets_skip_argon2_but_wrong_ones_never_do() {
    let server = TestServer::spawn(&matrix_toml()).await;
    let auth = |server: &TestServer| {
        let url = server.url("/healthz");
        let http = server.http.clone();
        async move {
            let h: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            (
                h["auth"]["argon2_runs"].as_u64().unwrap(),
                h["auth"]["cache_hits"].as_u64().unwrap(),
            )
        }
    };
    for _ in 0..3 {
        server.token("client", "secret", None).await;
    }
    assert_eq!(
        auth(&server).await,
        (1, 2),
        "one Argon2 run, then two cache hits"
    );
    let r = server.token_raw(CC, Some(&basic("client", "wrong"))).await;
    assert_eq!(
        r.status(),
        401,
        "a wrong secret after a right one is refused"
    );
    let r = server.token_raw(CC, Some(&basic("client", "wrong"))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        auth(&server).await,
        (3, 2),
        "each wrong secret paid for Argon2"
    );
    let r = server.token_raw(CC, Some(&basic("nobody", "secret"))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        auth(&server).await.0,
        4,
        "an unknown client paid for Argon2 too"
    );
}
