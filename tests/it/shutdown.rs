//! Graceful shutdown: on SIGTERM every request the server has is answered,
//! in flight or already sent on a kept-alive connection, and the process
//! exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::support::{basic, eventually, metric, quickstart_toml, start_logged};

/// Reads one HTTP/1.1 response from `stream` and returns its status line.
fn read_response(stream: &mut TcpStream) -> Option<String> {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_requests_in_flight_and_on_kept_alive_connections_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, quickstart_toml()).unwrap();
    let mut server = start_logged(&config, "info", &[]).await;
    let url = format!("http://{}/connect/token", server.addr);

    // A kept-alive connection that has had one answer.
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let livez = format!("GET /livez HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    kept.write_all(livez.as_bytes()).unwrap();
    assert!(read_response(&mut kept).unwrap().contains("200"));

    // Wrong secrets force an Argon2 run each (one at a time per core), so
    // most of these requests wait in the server when the signal arrives.
    // Distinct unknown client ids: none is throttled.
    const N: usize = 20;
    let mut requests = Vec::new();
    for i in 0..N {
        let url = url.clone();
        requests.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", basic(&format!("nobody{i}"), "wrong"))
                .body("grant_type=client_credentials")
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    // Signal once the server has read every request (answered or in
    // flight) and some are still waiting: a request not yet read when the
    // server stops accepting would be dropped, which is not what this
    // test is about.
    let metrics_url = format!("http://{}/metrics", server.addr);
    let http = reqwest::Client::new();
    eventually(
        Duration::from_secs(20),
        "every request to arrive",
        || async {
            let text = http
                .get(&metrics_url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            // The scrape itself is in flight too.
            let in_flight = metric(&text, "tollgate_requests_in_flight") - 1.0;
            let answered = metric(
                &text,
                "tollgate_request_duration_seconds_count{endpoint=\"token\"}",
            );
            assert!(
                in_flight >= 1.0 || answered < N as f64,
                "every request was answered before the signal could be sent"
            );
            (in_flight >= 2.0 && in_flight + answered >= N as f64).then_some(())
        },
    )
    .await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // The next request on the kept-alive connection is on its way as the
    // server stops.
    kept.write_all(livez.as_bytes()).unwrap();
    let answer = read_response(&mut kept);
    assert!(
        answer.as_deref().is_some_and(|s| s.contains("200")),
        "dropped: {answer:?}"
    );
    for r in requests {
        let status = r.await.unwrap().expect("no connection reset");
        assert_eq!(status, 401, "answered, not dropped");
    }
    let status = eventually(Duration::from_secs(15), "exit", || {
        std::future::ready(server.child.try_wait().unwrap())
    })
    .await;
    assert_eq!(status.code(), Some(0));
    assert!(server.log.lock().unwrap().contains("shutting down"));
}
