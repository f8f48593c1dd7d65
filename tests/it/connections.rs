//! Connections that hold resources without asking for anything: an HTTP/2
//! connection that sent only its preface, or a request head that never
//! ends, is closed at the head limit like an idle HTTP/1 connection.
//! A head trickled in byte by byte and a kept-alive connection left idle
//! are closed at that limit too, and hundreds of stalled connections do
//! not delay anyone else's request.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{TestServer, basic, quickstart_toml};

/// The client preface and an empty SETTINGS frame (RFC 9113 §3.4, §6.5).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[tokio::test]
async fn an_idle_http2_connection_and_an_unending_http2_head_are_closed_at_the_head_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let limit = Duration::from_secs(1);
    let server = TestServer::spawn_tuned(dir, "127.0.0.1:0", |s| s.head_timeout(limit)).await;
    let addr = server.addr;
    let preface_only = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(PREFACE).unwrap();
        closed_after(s, b"", Instant::now())
    });
    // HEADERS on stream 1 without END_HEADERS, and no CONTINUATION ever.
    let unending = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(PREFACE).unwrap();
        // A HEADERS frame: length 1, type 1, flags 0 (neither END_STREAM
        // nor END_HEADERS), stream 1, one byte of HPACK (":method: GET").
        s.write_all(b"\x00\x00\x01\x01\x00\x00\x00\x00\x01\x82")
            .unwrap();
        closed_after(s, b"", Instant::now())
    });
    for (what, task) in [("preface only", preface_only), ("unending head", unending)] {
        let closed = task.await.unwrap();
        let after = closed.unwrap_or_else(|| panic!("{what}: still open after 10 s"));
        assert!(
            after >= limit - Duration::from_millis(100),
            "{what}: closed after {after:?}"
        );
    }
    // A client that asks gets its answer on a new connection meanwhile.
    let ok = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn hundreds_of_stalled_connections_do_not_delay_a_normal_request() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let addr = server.addr;
    // Each sends half a request head and then nothing (slowloris).
    let stalled: Vec<TcpStream> = tokio::task::spawn_blocking(move || {
        (0..300)
            .map(|_| {
                let mut s = TcpStream::connect(addr).unwrap();
                s.write_all(b"POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: applic")
                    .unwrap();
                s
            })
            .collect()
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let r = server
        .token_raw(
            "grant_type=client_credentials",
            Some(&basic("client", "secret")),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    drop(stalled);
}

/// How long after `started` the server closed `stream`, which meanwhile
/// gets `trickle` written to it one byte every 100 ms (none if empty);
/// `None` if it stayed open for 10 s.
fn closed_after(
    mut stream: TcpStream,
    trickle: &[u8],
    started: std::time::Instant,
) -> Option<Duration> {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut bytes = trickle
        .iter()
        .cycle()
        .take(if trickle.is_empty() { 0 } else { usize::MAX });
    let mut buf = [0u8; 1024];
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(b) = bytes.next() {
            // A write to a connection the server closed may still succeed
            // (the reset comes later); the read below tells.
            let _ = stream.write_all(&[*b]);
        }
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {} // a response; keep-alive goes on
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

#[tokio::test]
async fn a_trickled_head_and_an_idle_connection_are_closed_at_the_head_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let limit = Duration::from_secs(1);
    let server = TestServer::spawn_tuned(dir, "127.0.0.1:0", |s| s.head_timeout(limit)).await;
    let addr = server.addr;
    // A head sent one byte every 100 ms would take 6 s: each byte used to
    // reset the idle timer, so it held the connection for as long as the
    // client liked.
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    assert!(head.len() > 50);
    let trickled = tokio::task::spawn_blocking(move || {
        closed_after(
            TcpStream::connect(addr).unwrap(),
            head,
            std::time::Instant::now(),
        )
    });
    let idle = tokio::task::spawn_blocking(move || {
        closed_after(
            TcpStream::connect(addr).unwrap(),
            b"",
            std::time::Instant::now(),
        )
    });
    // Kept alive after a complete request: the limit counts from the
    // response.
    let kept = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        closed_after(s, b"", std::time::Instant::now())
    });
    for (what, task) in [
        ("trickled head", trickled),
        ("idle", idle),
        ("kept alive", kept),
    ] {
        let took = task
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{what}: still open after 10 s"));
        assert!(
            took >= limit - Duration::from_millis(50) && took < limit * 4,
            "{what}: closed after {took:?}"
        );
    }
    // The server itself is fine.
    assert_eq!(server.basic_status("client", "secret").await, 200);
}
