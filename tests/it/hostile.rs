//! Hostile client authentication: a client id too long for any log line,
//! and failures whose timing says nothing about the client.

use std::time::{Duration, Instant};

use crate::support::{TestServer, basic, eventually, hash, quickstart_toml, start_logged};

const CC: &str = "grant_type=client_credentials";

fn no_throttle(toml: &str) -> String {
    format!("[throttle]\nclient_failures = 0\naddress_failures = 0\n{toml}")
}

#[tokio::test]
async fn an_impossibly_long_client_id_is_refused_like_any_failure_and_logged_short() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, quickstart_toml()).unwrap();
    let server = start_logged(&config, "info", &["--log-format", "json"]).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    let post = |authorization: String| {
        http.post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", authorization)
            .body(CC)
            .send()
    };
    let long = "A".repeat(150 * 1024);
    let huge = post(basic(&long, "x")).await.unwrap();
    assert_eq!(huge.status(), 401);
    let huge_body = huge.text().await.unwrap();
    let unknown = post(basic("nobody", "x"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(huge_body, unknown, "the same answer as any failure");
    let log = eventually(Duration::from_secs(5), "two audit events", || {
        std::future::ready({
            let log = server.log.lock().unwrap().clone();
            (log.matches("tollgate::audit").count() >= 2).then_some(log)
        })
    })
    .await;
    let longest = log.lines().map(str::len).max().unwrap();
    assert!(longest < 1_000, "a log line of {longest} bytes");
    assert!(log.contains("client_id_too_long"), "{log}");
    assert!(
        log.contains("bytes)"),
        "the id is cut short and its size told: {log}"
    );
}

#[tokio::test]
async fn every_failure_takes_as_long_whatever_the_client_its_secrets_and_their_parameters() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let heavy = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(65_536, 3, 1, None).unwrap(),
    )
    .hash_password(b"heavy")
    .unwrap()
    .to_string();
    let toml = format!(
        r#"
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "one"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{a}"
[[clients]]
client_id = "three"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{a}"
[[clients.secrets]]
hash = "{b}"
[[clients.secrets]]
hash = "{c}"
[[clients]]
client_id = "heavy"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{heavy}"
"#,
        a = hash("a"),
        b = hash("b"),
        c = hash("c"),
    );
    let server = TestServer::spawn(&no_throttle(&toml)).await;
    let ids = ["nobody", "one", "three", "heavy"];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); ids.len()];
    // Interleaved, so that a slow moment of the machine hits every kind.
    for round in 0..7 {
        for (i, id) in ids.iter().enumerate() {
            let started = Instant::now();
            let status = server.basic_status(id, &format!("wrong{round}")).await;
            times[i].push(started.elapsed());
            assert_eq!(status, 401);
        }
    }
    let spread = crate::support::spread_within_rounds(&times);
    assert!(
        spread <= 1.25,
        "slowest to fastest within a round, median over rounds: {spread:.2} ({ids:?}: {times:?})"
    );
    eprintln!("failures of {ids:?}, spread within rounds {spread:.2}: {times:?}");
}

#[tokio::test]
async fn a_slow_jwks_uri_does_not_raise_the_time_of_every_other_failure() {
    use crate::support::{
        Signer, assertion_form, clock_now, eventually, key_server, start, unique,
    };
    use std::sync::atomic::Ordering;
    let keys = key_server().await;
    let known = Signer::new(tollgate::Algorithm::ES256);
    *keys.keys.lock().unwrap() = vec![known.jwk.clone()];
    let url = keys.url.lock().unwrap().clone();
    let toml = format!(
        r#"
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "reports"
allowed_scopes = ["api1"]
jwks_uri = "{url}/jwks"
[[clients]]
client_id = "one"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{a}"
"#,
        a = hash("a"),
    );
    let clock = tollgate_jose::clock::ManualClock::new(start());
    let server = TestServer::spawn_with_clock(&no_throttle(&toml), clock.clone()).await;
    eventually(Duration::from_secs(5), "the prefetch", || async {
        (keys.jwks_fetches.load(Ordering::SeqCst) >= 1).then_some(())
    })
    .await;
    // An unknown kid, past the refetch interval, while the client's JWKS
    // answers in 4 s: that failure waits for the fetch.
    clock.advance(time::Duration::seconds(11));
    keys.delay_ms.store(4_000, Ordering::SeqCst);
    let stranger = Signer::new(tollgate::Algorithm::ES256);
    let now = clock_now(&clock);
    let claims = serde_json::json!({"iss": "reports", "sub": "reports", "aud": server.issuer(),
        "exp": now + 60, "jti": format!("j{}", unique())});
    let forged = assertion_form(&stranger.sign(Some("forged"), &claims));
    let started = Instant::now();
    assert_eq!(server.token_raw(&forged, None).await.status(), 401);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the fetch was slow"
    );
    // A wrong secret now takes what it took before, not the fetch's time.
    for round in 0..3 {
        let started = Instant::now();
        assert_eq!(
            server.basic_status("one", &format!("wrong{round}")).await,
            401
        );
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "a wrong secret took {took:?} after a slow key fetch"
        );
    }
}

#[tokio::test]
async fn after_a_flood_of_wrong_secrets_a_failure_takes_what_it_took_before() {
    let toml = format!(
        "[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"one\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("a")
    );
    let server = TestServer::spawn(&no_throttle(&toml)).await;
    // 128 at once queue for two or so Argon2 threads: the last ones wait
    // for the others' work, which is not theirs.
    let wrong: Vec<String> = (0..128).map(|i| format!("flood{i}")).collect();
    let flood = wrong.iter().map(|w| server.basic_status("one", w));
    let flooded = Instant::now();
    for status in futures_util::future::join_all(flood).await {
        assert_eq!(status, 401);
    }
    eprintln!("the flood took {:?}", flooded.elapsed());
    for round in 0..3 {
        let started = Instant::now();
        assert_eq!(
            server.basic_status("one", &format!("after{round}")).await,
            401
        );
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "a wrong secret took {took:?} after the flood"
        );
    }
}
