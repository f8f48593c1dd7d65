//! `GET /metrics`: every metric moves when what it counts happens.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TestServer, basic, eventually, managed, metric, quickstart_toml, scrape};

/// The management listener's metrics, as Prometheus asks for them.
async fn metrics(server: &TestServer) -> String {
    let r = server
        .http
        .get(format!("http://{}/metrics", server.management.unwrap()))
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    r.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_tokens_errors_argon2_cache_latency_and_reloads() {
    let server = TestServer::spawn(&managed(&quickstart_toml())).await;
    let before = metrics(&server).await;
    assert!(before.ends_with("# EOF\n"));
    assert_eq!(metric(&before, "tollgate_config_generation"), 1.0);
    for _ in 0..3 {
        assert_eq!(server.basic_status("client", "secret").await, 200);
    }
    assert_eq!(server.basic_status("client", "wrong").await, 401);
    assert_eq!(
        server
            .token_raw("scope=x", Some(&basic("client", "secret")))
            .await
            .status(),
        400
    );
    server
        .http
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();

    let after = metrics(&server).await;
    assert_eq!(
        metric(
            &after,
            r#"tollgate_tokens_issued_total{client_id="client"}"#
        ),
        3.0
    );
    assert_eq!(
        metric(
            &after,
            r#"tollgate_token_errors_total{error="invalid_client"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &after,
            r#"tollgate_token_errors_total{error="invalid_request"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(&after, "tollgate_argon2_verifications_total"),
        2.0,
        "one miss, one wrong secret"
    );
    assert_eq!(
        metric(&after, "tollgate_secret_cache_hits_total"),
        2.0,
        "the later two tokens; the bad request fails before authentication"
    );
    assert_eq!(
        metric(
            &after,
            r#"tollgate_request_duration_seconds_count{endpoint="token"}"#
        ),
        5.0
    );
    assert_eq!(
        metric(
            &after,
            r#"tollgate_request_duration_seconds_count{endpoint="jwks"}"#
        ),
        1.0
    );

    // A refused edit, then a good one.
    let file = server.dir.path().join("identity.toml");
    std::fs::write(&file, "colour = 1\n").unwrap();
    let m = eventually(
        Duration::from_secs(5),
        "the reload failure to be counted",
        || async {
            let m = metrics(&server).await;
            (metric(&m, "tollgate_config_reload_failures_total") == 1.0).then_some(m)
        },
    )
    .await;
    assert_eq!(metric(&m, "tollgate_config_last_reload_success"), 0.0);
    std::fs::write(&file, quickstart_toml() + "\n# edited\n").unwrap();
    let m = eventually(Duration::from_secs(5), "generation 2", || async {
        let m = metrics(&server).await;
        (metric(&m, "tollgate_config_generation") == 2.0).then_some(m)
    })
    .await;
    assert_eq!(metric(&m, "tollgate_config_last_reload_success"), 1.0);
}

#[tokio::test]
async fn metrics_count_down_to_the_next_key_rotation() {
    let toml = format!(
        "[keys]\nrotate_every = \"1h\"\nannounce = \"10m\"\nretain = \"2h\"\n{}",
        quickstart_toml()
    );
    let clock = tollgate_jose::clock::ManualClock::new(crate::support::now());
    let server = TestServer::spawn_with_clock(&managed(&toml), clock.clone()).await;
    let first = metrics(&server).await;
    assert_eq!(metric(&first, "tollgate_signing_keys_published"), 1.0);
    let left = metric(&first, "tollgate_signing_key_rotation_seconds");
    assert!(left > 3590.0 && left <= 3600.0, "{left}\n{first}");
    clock.advance(time::Duration::minutes(20));
    let later = metric(
        &metrics(&server).await,
        "tollgate_signing_key_rotation_seconds",
    );
    assert!(
        (left - later - 1200.0).abs() < 1.0,
        "counts down: {left} then {later}"
    );
}

#[tokio::test]
async fn scrapers_that_do_not_ask_for_openmetrics_get_the_classic_text_format() {
    let server = TestServer::spawn(&managed(&quickstart_toml())).await;
    server.token("client", "secret", None).await;
    assert_eq!(server.basic_status("client", "wrong").await, 401);
    let r = server
        .http
        .get(format!("http://{}/metrics", server.management.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    assert!(!text.contains("# EOF"), "{text}");
    assert!(!text.contains("# UNIT"), "{text}");
    // Counters are described under their samples' names, as promtool and
    // older scrapers require.
    for family in [
        "tollgate_tokens_issued_total",
        "tollgate_token_errors_total",
        "tollgate_client_auth_failures_total",
        "tollgate_config_reload_failures_total",
        "tollgate_argon2_verifications_total",
        "tollgate_secret_cache_hits_total",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {family} counter")),
            "{family}:\n{text}"
        );
    }
}

#[tokio::test]
async fn nothing_on_the_public_port_tells_which_client_ids_exist() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    server.token("client", "secret", None).await;
    assert_eq!(server.basic_status("client", "wrong").await, 401);
    assert_eq!(server.basic_status("nobody", "wrong").await, 401);
    let public = scrape(&server.http, server.addr).await;
    for leak in ["client_id=", "unknown_client", "wrong_secret", "\"client\""] {
        assert!(
            !public.contains(leak),
            "{leak} on the public port:\n{public}"
        );
    }
    assert!(
        public.contains("tollgate_client_auth_failures_total 2"),
        "{public}"
    );
    assert!(
        public.contains("tollgate_tokens_issued_total 1"),
        "{public}"
    );

    // With a management listener, the detail is there, and the public port
    // has no metrics at all.
    let managed = TestServer::spawn(&managed(&quickstart_toml())).await;
    managed.token("client", "secret", None).await;
    assert_eq!(managed.basic_status("nobody", "wrong").await, 401);
    let r = managed
        .http
        .get(managed.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let full = scrape(&managed.http, managed.management.unwrap()).await;
    assert!(
        full.contains(r#"tollgate_tokens_issued_total{client_id="client"} 1"#),
        "{full}"
    );
    assert!(full.contains(r#"reason="unknown_client""#), "{full}");
    let health: Value = managed
        .http
        .get(format!("http://{}/healthz", managed.management.unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn token_series_do_not_grow_with_scope_order_and_removed_clients_leave() {
    let two = quickstart_toml().replace(
        "[[api_scopes]]\nname = \"api1\"\n",
        "[[api_scopes]]\nname = \"api1\"\n[[api_scopes]]\nname = \"api2\"\n",
    );
    let two = two.replace(
        "allowed_scopes = [\"api1\"]",
        "allowed_scopes = [\"api1\", \"api2\"]",
    );
    let server = TestServer::spawn(&managed(&two)).await;
    server.token("client", "secret", Some("api1 api2")).await;
    server.token("client", "secret", Some("api2 api1")).await;
    let full = scrape(&server.http, server.management.unwrap()).await;
    let series: Vec<&str> = full
        .lines()
        .filter(|l| l.starts_with("tollgate_tokens_issued_total"))
        .collect();
    assert_eq!(
        series,
        [r#"tollgate_tokens_issued_total{client_id="client"} 2"#]
    );
    // The client leaves the file: its series leaves the metrics.
    let file = server.dir.path().join("identity.toml");
    let without = managed(&two).replace("client_id = \"client\"", "client_id = \"other\"");
    std::fs::write(&file, without).unwrap();
    let http = server.http.clone();
    let management = server.management.unwrap();
    eventually(Duration::from_secs(10), "the series to go", || {
        let http = http.clone();
        async move {
            let m = scrape(&http, management).await;
            (!m.contains(r#"client_id="client""#)).then_some(())
        }
    })
    .await;
}
