//! Throttling of failed client authentication: after a budget of
//! failures a client id (from an address) gets 429 with Retry-After, a
//! verified client never does, another address's guesses lock no one
//! out, and the warning about it is one log line per interval.

use std::time::Duration;

use crate::support::{TestServer, basic, eventually, quickstart_toml, start_logged};

const CC: &str = "grant_type=client_credentials";

/// The `Retry-After` seconds of a response.
fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failed_authentication_is_throttled_but_verified_clients_are_not() {
    let toml = format!(
        "[throttle]\nclient_failures = 3\nwindow = \"1m\"\n{}",
        quickstart_toml()
    );
    let server = TestServer::spawn(&crate::support::managed(&toml)).await;
    let cc = "grant_type=client_credentials";
    // That first use ran Argon2 and counted; two more attempts are left.
    assert_eq!(server.basic_status("client", "secret").await, 200);
    for _ in 0..2 {
        assert_eq!(server.basic_status("client", "guess").await, 401);
    }
    let r = server.token_raw(cc, Some(&basic("client", "guess"))).await;
    assert_eq!(r.status(), 429);
    let retry = retry_after(&r);
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // The verified secret still works: it never reaches Argon2 or the budget.
    assert_eq!(server.basic_status("client", "secret").await, 200);
    // An unknown client id is throttled the same way (nothing to tell apart).
    for _ in 0..3 {
        assert_eq!(server.basic_status("nobody", "x").await, 401);
    }
    assert_eq!(server.basic_status("nobody", "x").await, 429);
    // Both refusals are counted as throttled authentications.
    let metrics = crate::support::scrape(&server.http, server.management.unwrap()).await;
    for series in [
        "tollgate_client_auth_failures_total{reason=\"throttled\"} 2",
        "tollgate_client_auth_failures_total{reason=\"wrong_secret\"} 2",
        "tollgate_client_auth_failures_total{reason=\"unknown_client\"} 3",
        "tollgate_token_errors_total{error=\"temporarily_unavailable\"} 2",
    ] {
        assert!(metrics.contains(series), "{series}:\n{metrics}");
    }
}

#[tokio::test]
async fn ten_failures_in_a_row_are_answered_before_any_throttling_by_default() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let cc = "grant_type=client_credentials";
    for _ in 0..10 {
        assert_eq!(server.basic_status("client", "typo").await, 401);
    }
    // The eleventh attempt within the minute waits for one refill: 6 s.
    let r = server.token_raw(cc, Some(&basic("client", "secret"))).await;
    assert_eq!(r.status(), 429);
    let retry = retry_after(&r);
    assert!((1..=6).contains(&retry), "{retry}");
}

/// A client for requests from another loopback address.
fn from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_guesser_at_another_address_cannot_lock_a_client_out() {
    let toml = format!("[throttle]\nclient_failures = 3\n{}", quickstart_toml());
    let server = TestServer::spawn_at(
        {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("identity.toml"), toml).unwrap();
            dir
        },
        "0.0.0.0:0",
    )
    .await;
    let url = format!("http://127.0.0.1:{}/connect/token", server.addr.port());
    let guesser = from("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..10 {
        let r = guesser
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic("client", &format!("guess{i}")))
            .body(CC)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[..3], [401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    // The real client's cache is cold (its first request): it still gets
    // its token, from its own address.
    let r = from("127.0.0.1")
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic("client", "secret"))
        .body(CC)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn repeated_throttling_warnings_are_one_line_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(
        &config,
        format!("[throttle]\nclient_failures = 1\n{}", quickstart_toml()),
    )
    .unwrap();
    let server = start_logged(&config, "info", &[]).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    let mut throttled = 0;
    for i in 0..30 {
        let r = http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic("client", &format!("guess{i}")))
            .body(CC)
            .send()
            .await
            .unwrap();
        throttled += usize::from(r.status() == 429);
    }
    assert!(throttled >= 28, "{throttled}");
    // The log read once it holds the audit event of the last request:
    // every warning about the ones before is written by then.
    let log = eventually(Duration::from_secs(5), "30 audit events", || {
        let log = server.log.lock().unwrap().clone();
        std::future::ready((log.matches("token refused").count() >= 30).then_some(log))
    })
    .await;
    let lines = log.matches("client authentication throttled").count();
    assert_eq!(lines, 1, "{log}");
}
