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
        ("refused".into(), "client".into(), "invalid_scope".into())
    );
    assert_eq!(
        fields(&audit[4]),
        ("refused".into(), "-".into(), "wrong_content_type".into())
    );
    assert_eq!(audit[4]["error"], "invalid_request");
    assert!(!log.contains("wrong\""), "no secret in the log");
}
