//! A server of client metadata documents on loopback that behaves as the
//! test says, path by path: a document, a redirect, a body too long or
//! without end, or headers and then nothing. It counts the requests of
//! each path, so a test can say what was never asked for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How one path answers.
#[derive(Clone)]
pub(crate) enum Answer {
    /// 200 with this JSON body and `Cache-Control: max-age=<s>`.
    Document(String, u64),
    /// 302 to this location.
    Redirect(String),
    /// 200 with a body of this many bytes, its length declared.
    Sized(usize),
    /// 200, no length, 1 KiB chunks until the reader goes away.
    Endless,
    /// 200 headers, then silence until the reader goes away.
    Stall,
}

#[derive(Default)]
struct Seen {
    routes: Mutex<HashMap<String, Answer>>,
    requests: Mutex<HashMap<String, usize>>,
}

/// The server; dropped, it stops accepting.
pub(crate) struct DocumentServer {
    pub port: u16,
    seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl DocumentServer {
    /// A server with no path yet (each is 404 until `answer` sets it).
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, seen.clone()));
                }
            })
        };
        Self { port, seen, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on, `path` answers so.
    pub(crate) fn answer(&self, path: &str, answer: Answer) {
        self.seen
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), answer);
    }

    /// How many requests asked for `path`.
    pub(crate) fn requests(&self, path: &str) -> usize {
        self.seen
            .requests
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests came at all.
    pub(crate) fn all_requests(&self) -> usize {
        self.seen.requests.lock().unwrap().values().sum()
    }
}

impl Drop for DocumentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, seen: Arc<Seen>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
    *seen
        .requests
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default() += 1;
    let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n";
    let answer = seen.routes.lock().unwrap().get(&path).cloned();
    match answer {
        None => {
            let _ = stream
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
        Some(Answer::Document(body, max_age)) => {
            let head = format!(
                "{ok}cache-control: max-age={max_age}\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        }
        Some(Answer::Redirect(location)) => {
            let head =
                format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Some(Answer::Sized(n)) => {
            let head = format!("{ok}content-length: {n}\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&vec![b' '; n]).await;
        }
        Some(Answer::Endless) => {
            let _ = stream.write_all(format!("{ok}\r\n").as_bytes()).await;
            let chunk = [b' '; 1024];
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Some(Answer::Stall) => {
            let _ = stream.write_all(format!("{ok}\r\n").as_bytes()).await;
            // Until the reader hangs up: a read then returns 0 or fails.
            let _ = stream.read(&mut buf).await;
        }
    }
}
