//! Hostile input, round two: what a red team found, each with its
//! regression test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    TestServer, basic, eventually, fingerprint, hash, managed, quickstart_toml, scrape,
    start_logged,
};

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
    let log = server.log.lock().unwrap().clone();
    let lines = log.matches("client authentication throttled").count();
    assert_eq!(lines, 1, "{log}");
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

/// The median of `samples`.
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
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
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    let (low, high) = (medians.iter().min().unwrap(), medians.iter().max().unwrap());
    assert!(
        high.as_secs_f64() <= low.as_secs_f64() * 1.25,
        "medians of {ids:?}: {medians:?}"
    );
    eprintln!("failure medians of {ids:?}: {medians:?}");
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

#[tokio::test]
async fn a_deleted_key_folder_keeps_the_keys_in_memory_and_is_reported() {
    let server = TestServer::spawn(&managed(&quickstart_toml())).await;
    let kid = crate::support::jwks_kids(&server).await;
    let before = server.token("client", "secret", None).await;
    std::fs::remove_dir_all(server.dir.path().join("keys")).unwrap();
    // Any reload wakes the key maintenance.
    let file = server.dir.path().join("identity.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&file, text).unwrap();
    let url = server.url("/healthz");
    let http = server.http.clone();
    let health: Value = eventually(Duration::from_secs(10), "the fault on /healthz", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let h: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            h["keys"]["fault"].is_string().then_some(h)
        }
    })
    .await;
    assert_eq!(health["status"], "degraded");
    assert!(
        !server.dir.path().join("keys").exists(),
        "nothing was written"
    );
    assert_eq!(
        crate::support::jwks_kids(&server).await,
        kid,
        "the same keys are published"
    );
    let after = server.token("client", "secret", None).await;
    let kid_of = |t: &Value| crate::support::kid_of(t["access_token"].as_str().unwrap());
    assert_eq!(kid_of(&before), kid_of(&after), "and the same key signs");
    let full = scrape(&server.http, server.management.unwrap()).await;
    assert!(full.contains("tollgate_signing_key_fault 1"), "{full}");
}

#[tokio::test]
async fn sighup_reloads_instead_of_killing_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, quickstart_toml()).unwrap();
    let mut server = start_logged(&config, "info", &[]).await;
    let pid = server.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    eventually(Duration::from_secs(5), "the reload line", || {
        std::future::ready({
            server
                .log
                .lock()
                .unwrap()
                .contains("SIGHUP: reloading the configuration")
                .then_some(())
        })
    })
    .await;
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
    let r = reqwest::Client::new()
        .get(format!("http://{}/livez", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_file_written_in_place_in_two_steps_is_applied_whole_not_half() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let file = server.dir.path().join("identity.toml");
    let second = format!(
        "[[clients]]\nclient_id = \"second\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    );
    let whole = format!("{}\n# edited\n{second}", quickstart_toml());
    // A slow writer: the first half (valid TOML on its own), a pause, the
    // rest.
    let half = whole.len() - second.len();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap();
    f.write_all(&whole.as_bytes()[..half]).unwrap();
    f.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    f.write_all(&whole.as_bytes()[half..]).unwrap();
    drop(f);
    // The whole file in force, seen by its fingerprint: had the half been
    // applied first, the whole would be generation 3.
    let whole_in_force = fingerprint(whole.as_bytes());
    let url = server.url("/healthz");
    let h: Value = eventually(
        Duration::from_secs(10),
        "the whole file in force",
        || async {
            let h: Value = server.http.get(&url).send().await.ok()?.json().await.ok()?;
            (h["config"]["sha256"] == whole_in_force.as_str()).then_some(h)
        },
    )
    .await;
    assert_eq!(h["config"]["generation"], 2, "{h}");
    assert_eq!(server.basic_status("second", "secret").await, 200);
}

#[tokio::test]
async fn sigterm_answers_a_request_already_sent_on_a_kept_alive_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, quickstart_toml()).unwrap();
    let server = start_logged(&config, "info", &[]).await;
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("GET /livez HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    let read_response = |stream: &mut TcpStream| -> Option<String> {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).ok()?;
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        (!status.is_empty()).then_some(status)
    };
    stream.write_all(request.as_bytes()).unwrap();
    assert!(read_response(&mut stream).unwrap().contains("200"));
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    // The next request is on its way as the server stops.
    stream.write_all(request.as_bytes()).unwrap();
    let answer = read_response(&mut stream);
    assert!(
        answer.as_deref().is_some_and(|s| s.contains("200")),
        "dropped: {answer:?}"
    );
}
