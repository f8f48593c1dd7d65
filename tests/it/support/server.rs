//! A real tollgate server on 127.0.0.1:0 in this process, its config in a
//! temporary folder.

use tokio::sync::oneshot;

use super::{basic, form};

pub(crate) struct TestServer {
    pub addr: std::net::SocketAddr,
    /// The management listener, when the file has one.
    pub management: Option<std::net::SocketAddr>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Writes `toml` as identity.toml in a fresh folder and serves it.
    pub(crate) async fn spawn(toml: &str) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("identity.toml"), toml).unwrap();
        Self::spawn_in(dir).await
    }

    /// Serves the identity.toml already in `dir`.
    pub(crate) async fn spawn_in(dir: tempfile::TempDir) -> TestServer {
        Self::spawn_at(dir, "127.0.0.1:0").await
    }

    /// Serves the identity.toml in `dir` on `listen`.
    pub(crate) async fn spawn_at(dir: tempfile::TempDir, listen: &str) -> TestServer {
        Self::spawn_tuned(dir, listen, |server| server).await
    }

    /// Writes `toml` and serves it on a clock the test moves.
    pub(crate) async fn spawn_with_clock(
        toml: &str,
        clock: std::sync::Arc<tollgate_jose::clock::ManualClock>,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("identity.toml"), toml).unwrap();
        Self::spawn_in_with_clock(dir, clock).await
    }

    /// Serves the identity.toml already in `dir` on a clock the test moves.
    pub(crate) async fn spawn_in_with_clock(
        dir: tempfile::TempDir,
        clock: std::sync::Arc<tollgate_jose::clock::ManualClock>,
    ) -> TestServer {
        let server = tollgate::Server::builder(&dir.path().join("identity.toml"))
            .listen("127.0.0.1:0")
            .clock(clock)
            .bind()
            .await
            .expect("server starts");
        Self::serve(server, dir)
    }

    /// Serves the identity.toml in `dir` on `listen`, with the server's
    /// settings adjusted by `tune` (shorter time limits, say).
    pub(crate) async fn spawn_tuned(
        dir: tempfile::TempDir,
        listen: &str,
        tune: impl FnOnce(tollgate::Builder) -> tollgate::Builder,
    ) -> TestServer {
        let builder = tollgate::Server::builder(&dir.path().join("identity.toml")).listen(listen);
        let server = tune(builder).bind().await.expect("server starts");
        Self::serve(server, dir)
    }

    fn serve(server: tollgate::Server, dir: tempfile::TempDir) -> TestServer {
        let addr = server.local_addr();
        let management = server.management_addr();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            management,
            dir,
            http: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GETs `path` and decodes its JSON body (any deserializable type).
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// `/healthz` once the configuration's `last_error` mentions every one
    /// of `needles`: a refused edit, waited for by what it must say.
    pub(crate) async fn refused(&self, needles: &[&str]) -> serde_json::Value {
        let what = needles.join(" and ");
        super::eventually(std::time::Duration::from_secs(5), &what, || async {
            let h: serde_json::Value = self.get_json("/healthz").await;
            h["config"]["last_error"]
                .as_str()
                .is_some_and(|e| needles.iter().all(|n| e.contains(n)))
                .then_some(h)
        })
        .await
    }

    /// POSTs a raw form body with an optional Authorization header.
    pub(crate) async fn token_raw(
        &self,
        body: &str,
        authorization: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url("/connect/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        req.send().await.unwrap()
    }

    /// The status of a client_credentials request with HTTP Basic.
    pub(crate) async fn basic_status(&self, client: &str, secret: &str) -> u16 {
        self.token_raw(
            "grant_type=client_credentials",
            Some(&basic(client, secret)),
        )
        .await
        .status()
        .as_u16()
    }

    /// A successful client_credentials token for `client` / `secret`.
    pub(crate) async fn token(
        &self,
        client: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> serde_json::Value {
        let body = match scope {
            Some(s) => format!("grant_type=client_credentials&scope={}", form(s)),
            None => "grant_type=client_credentials".into(),
        };
        let r = self.token_raw(&body, Some(&basic(client, secret))).await;
        assert_eq!(r.status(), 200, "token request failed");
        r.json().await.unwrap()
    }

    /// Stops the server and waits for it to finish; returns its folder.
    pub(crate) async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown.take().unwrap().send(()).ok();
        self.task.take().unwrap().await.unwrap().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}
