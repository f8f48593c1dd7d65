//! Test helpers: a real tollgate server on 127.0.0.1:0 in this process,
//! config files in a temporary folder, precomputed secret hashes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::sync::oneshot;

/// Hashes `secret` once per test binary (Argon2 is slow on purpose).
pub(crate) fn hash(secret: &str) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(h) = cache.lock().unwrap().get(secret) {
        return h.clone();
    }
    let h = tollgate_core::hash_secret(secret).unwrap();
    cache.lock().unwrap().insert(secret.to_owned(), h.clone());
    h
}

/// The quickstart: scope api1, client "client" / "secret".
pub(crate) fn quickstart_toml() -> String {
    format!(
        r#"
[[api_scopes]]
name = "api1"

[[clients]]
client_id = "client"
allowed_scopes = ["api1"]

[[clients.secrets]]
hash = "{}"
"#,
        hash("secret")
    )
}

/// `toml` with a management listener on an ephemeral port (full metrics
/// and health there).
pub(crate) fn managed(toml: &str) -> String {
    let line = "management_listen = \"127.0.0.1:0\"\n";
    match toml.find("[server]\n") {
        Some(i) => {
            let at = i + "[server]\n".len();
            format!("{}{line}{}", &toml[..at], &toml[at..])
        }
        None => format!("[server]\n{line}{toml}"),
    }
}

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
        tune: impl FnOnce(tollgate::Server) -> tollgate::Server,
    ) -> TestServer {
        let server = tollgate::Server::bind(&dir.path().join("identity.toml"), Some(listen))
            .await
            .expect("server starts");
        Self::serve(tune(server), dir)
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

/// `Basic base64(urlencode(id):urlencode(secret))` as RFC 6749 §2.3.1 says.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    basic_raw(&format!("{}:{}", form(id), form(secret)))
}

/// `Basic base64(raw)`, for clients that skip the url-encoding.
pub(crate) fn basic_raw(raw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

pub(crate) fn form(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Polls `f` until it returns `Some`, failing after `timeout`.
pub(crate) fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The JWT's decoded header and payload (no verification).
pub(crate) fn jwt_parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let header = b64.decode(parts.next().unwrap()).unwrap();
    let payload = b64.decode(parts.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&payload).unwrap(),
    )
}

/// Where cargo put this package's binaries and examples.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/it-<hash>
    exe.parent().unwrap().parent().unwrap().to_owned()
}

pub(crate) fn example(name: &str) -> PathBuf {
    let path = target_dir().join("examples").join(name);
    assert!(
        path.exists(),
        "{} not built (cargo test builds examples)",
        path.display()
    );
    path
}

pub(crate) fn tollgate_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tollgate"))
}

/// Polls the async `f` every 25 ms until it returns `Some`, failing after
/// `timeout`.
pub(crate) async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    timeout: Duration,
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The `.pem` files of `dir`, sorted.
pub(crate) fn key_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".pem"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The `kid`s of `server`'s JWKS, in its order.
pub(crate) async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let jwks: serde_json::Value = server.get_json("/.well-known/jwks.json").await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The `kid` of a JWT's header.
pub(crate) fn kid_of(token: &str) -> String {
    jwt_parts(token).0["kid"].as_str().unwrap().to_owned()
}

/// Verifies `token`'s signature against `server`'s JWKS *now*, with the
/// key's own algorithm (the audience is not checked).
pub(crate) async fn verify_against(
    server: &TestServer,
    token: &str,
) -> Result<serde_json::Value, String> {
    verify_at(&server.http, &server.url(""), token).await
}

/// [`verify_against`] for the server at `base` (`http://host:port`).
pub(crate) async fn verify_at(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<serde_json::Value, String> {
    let jwks: jsonwebtoken::jwk::JwkSet = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let kid = kid_of(token);
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let alg = match jwk.common.key_algorithm {
        Some(jsonwebtoken::jwk::KeyAlgorithm::ES256) => jsonwebtoken::Algorithm::ES256,
        Some(jsonwebtoken::jwk::KeyAlgorithm::EdDSA) => jsonwebtoken::Algorithm::EdDSA,
        Some(jsonwebtoken::jwk::KeyAlgorithm::RS256) => jsonwebtoken::Algorithm::RS256,
        other => return Err(format!("unexpected JWK alg {other:?}")),
    };
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

/// A real server process with its stderr collected.
pub(crate) struct Logged {
    pub child: std::process::Child,
    pub addr: String,
    /// The management listener's `host:port`, when the file has one.
    pub management: Option<String>,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

pub(crate) fn start_logged(config: &std::path::Path, log_filter: &str, args: &[&str]) -> Logged {
    let mut child = std::process::Command::new(tollgate_bin())
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(args)
        .env("TOLLGATE_LOG", log_filter)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let addr = wait_for(Duration::from_secs(30), "the listening line", || {
        let text = log.lock().unwrap().clone();
        text.split("listening on http://").nth(1).map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap()
                .to_owned()
        })
    });
    let management = log
        .lock()
        .unwrap()
        .split("management listener (metrics, health) on http://")
        .nth(1)
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap()
                .to_owned()
        });
    Logged {
        child,
        addr,
        management,
        log,
    }
}

impl Drop for Logged {
    /// A failed test must not leave servers running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `/metrics` text of the server at `addr` (`host:port`).
pub(crate) async fn scrape(http: &reqwest::Client, addr: impl std::fmt::Display) -> String {
    let r = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The wall clock, for tests that run against it.
pub(crate) fn now() -> time::OffsetDateTime {
    tollgate_jose::clock::system().now()
}

/// Whole seconds from now, as an RFC 3339 / TOML date-time.
pub(crate) fn at(from_now: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    (now().replace_nanosecond(0).unwrap() + time::Duration::seconds(from_now))
        .format(&Rfc3339)
        .unwrap()
}

/// Writes a new private key of `alg` to `dir/name` (0600) and returns its kid.
pub(crate) fn write_key(dir: &Path, name: &str, alg: tollgate::keys::Algorithm) -> String {
    let (key, pem) = tollgate::keys::SigningKey::generate(alg).unwrap();
    tollgate::keys::store::write_new(&dir.join(name), pem.as_bytes()).unwrap();
    key.kid().to_owned()
}
