//! Connections that hold resources without asking for anything: an HTTP/2
//! connection that sent only its preface, or a request head that never
//! ends, is closed at the head limit like an idle HTTP/1 connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{TestServer, quickstart_toml};

/// The client preface and an empty SETTINGS frame (RFC 9113 §3.4, §6.5).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// How long until the server closes `stream`, reading whatever it sends;
/// `None` if it is still open after `within`.
fn closed_within(mut stream: TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < within {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
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
async fn an_idle_http2_connection_and_an_unending_http2_head_are_closed_at_the_head_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let limit = Duration::from_secs(1);
    let server = TestServer::spawn_tuned(dir, "127.0.0.1:0", |s| s.head_timeout(limit)).await;
    let addr = server.addr;
    let preface_only = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(PREFACE).unwrap();
        closed_within(s, Duration::from_secs(10))
    });
    // HEADERS on stream 1 without END_HEADERS, and no CONTINUATION ever.
    let unending = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(PREFACE).unwrap();
        // A HEADERS frame: length 1, type 1, flags 0 (neither END_STREAM
        // nor END_HEADERS), stream 1, one byte of HPACK (":method: GET").
        s.write_all(b"\x00\x00\x01\x01\x00\x00\x00\x00\x01\x82")
            .unwrap();
        closed_within(s, Duration::from_secs(10))
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
