//! Logs as an operator reads them: JSON lines, a request id on every
//! request's events and response, and one audit event per token request.

use std::time::Duration;

use serde_json::Value;

use crate::support::{basic, eventually, jwt_parts, quickstart_toml, start_logged};

#[tokio::test]
async fn every_token_request_leaves_one_json_audit_event_with_its_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, crate::support::managed(&quickstart_toml())).unwrap();
    let mut server = start_logged(&config, "info", &["--log-format", "json"]).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    let post = |auth: Option<String>, body: &'static str, id: Option<&'static str>| {
        let mut req = http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(id) = id {
            req = req.header("X-Request-Id", id);
        }
        req.send()
    };

    let ok = post(
        Some(basic("client", "secret")),
        "grant_type=client_credentials",
        Some("req-ok-1"),
    )
    .await
    .unwrap();
    assert_eq!(
        ok.headers()["x-request-id"],
        "req-ok-1",
        "a proxy's id is kept"
    );
    let token: Value = ok.json().await.unwrap();
    let jti = jwt_parts(token["access_token"].as_str().unwrap()).1["jti"].clone();
    let wrong = post(
        Some(basic("client", "wrong")),
        "grant_type=client_credentials",
        None,
    )
    .await
    .unwrap();
    let made_id = wrong.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made_id.len(), 16, "an id is made when none came");
    post(
        Some(basic("nobody", "x")),
        "grant_type=client_credentials",
        Some("bad id!"),
    )
    .await
    .unwrap();
    post(
        Some(basic("client", "secret")),
        "grant_type=client_credentials&scope=nope",
        None,
    )
    .await
    .unwrap();
    http.post(&url)
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();

    let metrics = crate::support::scrape(&http, server.management.as_ref().unwrap()).await;
    for reason in ["wrong_secret", "unknown_client"] {
        assert!(
            metrics.contains(&format!(
                "tollgate_client_auth_failures_total{{reason=\"{reason}\"}} 1"
            )),
            "{reason}:\n{metrics}"
        );
    }

    let audit = eventually(Duration::from_secs(5), "five audit events", || {
        std::future::ready({
            let log = server.log.lock().unwrap().clone();
            let events: Vec<Value> = log
                .lines()
                .map(|l| {
                    serde_json::from_str::<Value>(l)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
                })
                .filter(|e| e["target"] == "tollgate::audit")
                .collect();
            (events.len() >= 5).then_some(events)
        })
    })
    .await;
    let log = server.stop();
    assert_eq!(audit.len(), 5, "{audit:#?}");
    let fields = |e: &Value| {
        (
            e["outcome"].as_str().unwrap_or("").to_owned(),
            e["client_id"].as_str().unwrap_or("-").to_owned(),
            e["reason"].as_str().unwrap_or("-").to_owned(),
        )
    };
    let issued = &audit[0];
    assert_eq!(
        fields(issued),
        ("issued".into(), "client".into(), "-".into())
    );
    assert_eq!(issued["span"]["id"], "req-ok-1");
    assert_eq!(issued["jti"], jti);
    assert_eq!(issued["scope"], "api1");
    assert_eq!(issued["address"], "127.0.0.1");
    assert_eq!(
        fields(&audit[1]),
        ("refused".into(), "client".into(), "wrong_secret".into())
    );
    assert_eq!(audit[1]["span"]["id"], made_id.as_str());
    assert_eq!(audit[1]["error"], "invalid_client");
    assert_eq!(
        fields(&audit[2]),
        ("refused".into(), "nobody".into(), "unknown_client".into())
    );
    assert_ne!(
        audit[2]["span"]["id"], "bad id!",
        "an unsafe id is replaced"
    );
    assert_eq!(
        fields(&audit[3]),
        ("refused".into(), "client".into(), "unknown_scope".into())
    );
    assert_eq!(audit[3]["error"], "invalid_scope");
    assert_eq!(
        fields(&audit[4]),
        ("refused".into(), "-".into(), "wrong_content_type".into())
    );
    assert_eq!(audit[4]["error"], "invalid_request");
    assert!(!log.contains("wrong\""), "no secret in the log");
}

/// The client hears one `invalid_scope` for a scope it may not have; the
/// audit line says whether the file declares the scope, and what to do.
#[tokio::test]
async fn a_refused_scope_is_audited_as_unknown_or_not_allowed_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    let toml = format!("{}[[api_scopes]]\nname = \"api2\"\n", quickstart_toml());
    std::fs::write(&config, toml).unwrap();
    let mut server = start_logged(&config, "info", &["--log-format", "json"]).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    let mut bodies = Vec::new();
    for scope in ["nope", "api2"] {
        let r = http
            .post(&url)
            .header("Authorization", basic("client", "secret"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials&scope={scope}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        bodies.push(r.text().await.unwrap().replace(scope, "S"));
    }
    assert_eq!(bodies[0], bodies[1], "the client cannot tell which");
    let audit = eventually(Duration::from_secs(5), "two audit events", || {
        std::future::ready({
            let log = server.log.lock().unwrap().clone();
            let events: Vec<Value> = log
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|e| e["target"] == "tollgate::audit")
                .collect();
            (events.len() >= 2).then_some(events)
        })
    })
    .await;
    server.stop();
    let said = |e: &Value| {
        (
            e["error"].as_str().unwrap_or("").to_owned(),
            e["reason"].as_str().unwrap_or("").to_owned(),
            e["hint"].as_str().unwrap_or("").to_owned(),
        )
    };
    let (error, reason, hint) = said(&audit[0]);
    assert_eq!(
        (error.as_str(), reason.as_str()),
        ("invalid_scope", "unknown_scope")
    );
    assert!(hint.contains("[[api_scopes]]"), "{hint}");
    let (error, reason, hint) = said(&audit[1]);
    assert_eq!(
        (error.as_str(), reason.as_str()),
        ("invalid_scope", "scope_not_allowed")
    );
    assert!(hint.contains("allowed_scopes"), "{hint}");
}
