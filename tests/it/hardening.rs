//! Hostile or careless input: body and header limits, response headers,
//! CORS, secrets kept out of logs.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{TestServer, basic, eventually, quickstart_toml, start_logged};

/// Sends raw bytes on a fresh connection and returns the status line.
fn raw_status(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer (and close) before all of a huge body is sent.
    let _ = stream.write_all(request);
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

#[tokio::test]
async fn an_oversized_token_request_gets_413_in_the_oauth_error_shape() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let body = format!(
        "grant_type=client_credentials&pad={}",
        "x".repeat(20 * 1024)
    );
    let r = server
        .token_raw(&body, Some(&basic("client", "secret")))
        .await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(json["error"], "invalid_request");

    // Chunked, with no declared length: counted as it arrives.
    let mut request = format!(
        "POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        basic("client", "secret")
    )
    .into_bytes();
    for _ in 0..20 {
        request.extend_from_slice(format!("400\r\n{}\r\n", "x".repeat(1024)).as_bytes());
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let addr = server.addr;
    let status = tokio::task::spawn_blocking(move || raw_status(addr, &request))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large");
    // A small chunked request still works.
    let small = format!(
        "POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n1d\r\ngrant_type=client_credentials\r\n0\r\n\r\n",
        basic("client", "secret")
    );
    let status = tokio::task::spawn_blocking(move || raw_status(addr, small.as_bytes()))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    for path in [
        "/.well-known/openid-configuration",
        "/healthz",
        "/openapi.json",
        "/nope",
    ] {
        let r = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{path}");
    }
    let r = server
        .token_raw(
            "grant_type=client_credentials",
            Some(&basic("client", "secret")),
        )
        .await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn metadata_is_open_to_any_origin_but_the_token_endpoint_is_not() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ] {
        let r = server
            .http
            .get(server.url(path))
            .header("Origin", "https://spa.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(
            r.headers()
                .get("access-control-allow-credentials")
                .is_none(),
            "{path}"
        );
    }
    let r = server
        .http
        .post(server.url("/connect/token"))
        .header("Origin", "https://spa.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic("client", "secret"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

fn quickstart_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, quickstart_toml()).unwrap();
    (dir, config)
}

#[tokio::test]
async fn secrets_and_authorization_headers_never_reach_the_log() {
    let (_dir, config) = quickstart_dir();
    let mut server = start_logged(&config, "trace", &[]).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    let mut sent = Vec::new();
    for (id, secret) in [
        ("client", "secret"),
        ("client", "wrong-Secret-123"),
        ("nobody", "s3cr3t-unknown"),
    ] {
        let auth = basic(id, secret);
        http.post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", &auth)
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let post =
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}-post");
        http.post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(post)
            .send()
            .await
            .unwrap();
        sent.push(secret.to_owned());
        sent.push(format!("{secret}-post"));
        sent.push(auth.trim_start_matches("Basic ").to_owned());
    }
    // Stopped once the audit events of all six requests are written (one
    // issued, five refused): the log then holds every line they caused.
    eventually(Duration::from_secs(5), "six audit events", || {
        let log = server.log.lock().unwrap();
        let events = log.matches("token issued").count() + log.matches("token refused").count();
        std::future::ready((events >= 6).then_some(()))
    })
    .await;
    let log = server.stop();
    assert!(
        log.contains("token refused"),
        "the failures are logged: {log}"
    );
    for s in sent.iter().filter(|s| s.as_str() != "secret") {
        assert!(!log.contains(s.as_str()), "{s:?} leaked into the log");
    }
    // "secret" is also an English word in messages; check it only as a value.
    assert!(!log.contains("=secret"), "the quickstart secret leaked");
}

#[tokio::test]
async fn too_many_or_too_large_headers_are_refused() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let addr = server.addr;
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let status = tokio::task::spawn_blocking(move || raw_status(addr, request.as_bytes()))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let status = tokio::task::spawn_blocking(move || raw_status(addr, huge.as_bytes()))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
}

#[tokio::test]
async fn a_body_that_never_finishes_arriving_is_refused_in_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let limit = Duration::from_millis(500);
    let server = TestServer::spawn_tuned(dir, "127.0.0.1:0", |s| s.body_timeout(limit)).await;
    let addr = server.addr;
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        let request = format!(
            "POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: {}\r\nContent-Length: 100\r\n\r\ngrant_type",
            basic("client", "secret")
        );
        raw_status(addr, request.as_bytes())
    })
    .await
    .unwrap();
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    let took = started.elapsed();
    assert!(
        took >= limit - Duration::from_millis(50) && took < limit * 4,
        "took {took:?}"
    );
}
