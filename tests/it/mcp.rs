//! tollgate as the authorization server of an MCP server: the sample MCP
//! server (examples/mcp.rs, rmcp) as a process, protected by tollgate's
//! validator, called by the official MCP TypeScript SDK's own
//! client-credentials providers (tests/mcp/whoami.mjs, run with node):
//! the client finds the server's RFC 9728 metadata, then tollgate's, gets a
//! token for the server's resource and calls `whoami`. Its admin tool
//! needs `mcp:admin` too: without it, a 403 challenge lists both scopes.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    Dpop, Proc, Signer, TestServer, as_curl_shows, basic, example, form, generated, start_process,
};

/// The SDK's folder (tests/mcp), or `None` (and a note) where node or the
/// SDK (`npm ci` there) is missing, unless `REQUIRE_MCP_SDK_FOR_TESTS` says
/// they must be there (CI installs them).
pub(crate) fn sdk() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp");
    let node = Command::new("node").arg("--version").output();
    let installed = dir.join("node_modules/@modelcontextprotocol/sdk/package.json");
    let missing = match node {
        Err(e) => Some(format!("node is not installed ({e})")),
        Ok(_) if !installed.exists() => Some("run `npm ci` in tests/mcp".to_owned()),
        Ok(_) => None,
    };
    match missing {
        None => Some(dir),
        Some(why) => {
            assert!(
                std::env::var_os("REQUIRE_MCP_SDK_FOR_TESTS").is_none(),
                "the MCP TypeScript SDK is required here: {why}"
            );
            eprintln!("note: the MCP TypeScript SDK test is skipped: {why}");
            None
        }
    }
}

/// tollgate, and the MCP server trusting it.
pub(crate) struct Setup {
    pub(crate) server: TestServer,
    _mcp: Proc,
    /// `http://ADDR/mcp`: the MCP server's URL and resource identifier.
    pub(crate) resource: String,
    /// The private key of client `mcp-signer` (PKCS#8 PEM, ES256).
    signer: Signer,
}

/// The page's file, examples/clients.d/mcp.toml (scopes `mcp:tools` and
/// `mcp:admin`, the MCP server's resource, client `mcp-agent` with secret
/// `secret`), its
/// resource moved to where the MCP server listens; and, for the tests,
/// client `mcp-signer` (private_key_jwt) and a second resource holding the
/// same scope, so a token can carry the scope for another audience.
fn identity(signer: &Signer, resource: &str) -> String {
    let shipped = include_str!("../../examples/clients.d/mcp.toml");
    let documented = r#"name = "http://127.0.0.1:7001/mcp""#;
    assert!(shipped.contains(documented));
    format!(
        r#"{}
[[api_resources]]
name = "https://other.example/mcp"
scopes = ["mcp:tools"]

[[clients]]
client_id = "mcp-signer"
allowed_scopes = ["mcp:tools"]
jwks = {{ keys = [ {} ] }}

# A person, and an IDE-style public client she signs in to (the SDK's
# authorization code flow): a loopback redirect URI on any port.
[login]
[[users]]
username = "alice"
password_hash = "{}"

[[clients]]
client_id = "ide"
public = true
allowed_grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1/callback"]
allowed_scopes = ["mcp:tools", "mcp:admin", "offline_access"]
"#,
        shipped.replace(documented, &format!("name = \"{resource}\"")),
        signer.toml(),
        crate::support::hash("alice"),
    )
}

pub(crate) async fn setup() -> Setup {
    let signer = Signer::new(tollgate::Algorithm::ES256);
    // Until the MCP server is up, its resource is a placeholder.
    let server = TestServer::spawn(&identity(&signer, "http://127.0.0.1:1/mcp")).await;
    let (mcp, resource) = start_process(
        &example("mcp"),
        &["--authority", &server.issuer(), "--listen", "127.0.0.1:0"],
        "MCP server listening on ",
    )
    .await;
    // The MCP server's address is known only now: register its resource.
    std::fs::write(
        server.dir.path().join("identity.toml"),
        identity(&signer, &resource),
    )
    .unwrap();
    crate::support::eventually(Duration::from_secs(10), "the resource applied", || async {
        let h: Value = server.get_json("/healthz").await;
        (h["config"]["generation"].as_u64() == Some(2)).then_some(())
    })
    .await;
    Setup {
        server,
        _mcp: mcp,
        resource,
        signer,
    }
}

/// Runs tests/mcp/whoami.mjs with `env`; its stdout, or a failure with
/// everything it printed.
async fn whoami(sdk: PathBuf, env: Vec<(&'static str, String)>) -> String {
    node(sdk, "whoami.mjs", env).await
}

/// Runs `script` of tests/mcp with `env`; its stdout, or a failure with
/// everything it printed.
pub(crate) async fn node(
    sdk: PathBuf,
    script: &'static str,
    env: Vec<(&'static str, String)>,
) -> String {
    let (ok, out) = node_run(sdk, script, env).await;
    assert!(ok, "{script} failed:\n{out}");
    out
}

/// Runs `script` of tests/mcp with `env`: whether it succeeded, and its
/// stdout (then its stderr, when it failed).
pub(crate) async fn node_run(
    sdk: PathBuf,
    script: &'static str,
    env: Vec<(&'static str, String)>,
) -> (bool, String) {
    let run = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("node")
            .arg(script)
            .current_dir(&sdk)
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        // A client that hangs fails the test instead of holding it.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    });
    let out = run.await.unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        text.push_str(&format!(
            "({})\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    (out.status.success(), text)
}

#[tokio::test]
async fn the_typescript_sdk_calls_the_mcp_server_with_a_secret_and_with_private_key_jwt() {
    let Some(sdk) = sdk() else { return };
    let s = setup().await;
    let common = |id: &str| {
        vec![
            ("MCP_CLIENT_ID", id.to_owned()),
            ("MCP_EXPECTED_ISSUER", s.server.issuer()),
            ("MCP_SERVER_URL", s.resource.clone()),
        ]
    };

    // ClientCredentialsProvider: client_secret_basic.
    let mut env = common("mcp-agent");
    env.push(("MCP_CLIENT_SECRET", "secret".into()));
    let out = whoami(sdk.clone(), env).await;
    assert!(out.contains("whoami: mcp-agent\n"), "{out}");

    // PrivateKeyJwtProvider: a client assertion signed with its key.
    let mut env = common("mcp-signer");
    env.push(("MCP_CLIENT_PRIVATE_KEY_PEM", s.signer.pem.clone()));
    env.push(("MCP_CLIENT_ALGORITHM", "ES256".into()));
    let out = whoami(sdk, env).await;
    assert!(out.contains("whoami: mcp-signer\n"), "{out}");
}

/// An MCP `initialize` request, as any client sends first.
fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}
        }
    })
}

async fn post_mcp(s: &Setup, authorization: Option<String>) -> reqwest::Response {
    post_mcp_from(s, authorization, None).await
}

/// [`post_mcp`] as a browser page of `origin` would send it.
async fn post_mcp_from(
    s: &Setup,
    authorization: Option<String>,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut request = s
        .server
        .http
        .post(&s.resource)
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize());
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_mcp_server_refuses_a_request_without_a_token_naming_its_metadata_which_names_tollgate()
{
    let s = setup().await;
    let refused = post_mcp(&s, None).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    let base = s.resource.trim_end_matches("/mcp");
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource/mcp");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{metadata_url}""#)),
        "{challenge}"
    );

    let metadata: Value = s
        .server
        .http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata,
        json!({
            "resource": s.resource,
            "authorization_servers": [s.server.issuer()],
            "scopes_supported": ["mcp:tools"],
            "bearer_methods_supported": ["header"],
            "resource_name": "tollgate sample MCP server",
        })
    );
}

#[tokio::test]
async fn the_mcp_server_takes_only_tokens_whose_audience_is_its_resource() {
    let s = setup().await;
    let token = |resource: String| {
        let server = &s.server;
        async move {
            let body = format!(
                "grant_type=client_credentials&scope=mcp%3Atools&resource={}",
                form(&resource)
            );
            let r = server
                .token_raw(&body, Some(&basic("mcp-agent", "secret")))
                .await;
            assert_eq!(r.status(), 200);
            let json: Value = r.json().await.unwrap();
            json["access_token"].as_str().unwrap().to_owned()
        }
    };

    // The right scope, for another resource: refused.
    let elsewhere = token("https://other.example/mcp".into()).await;
    let refused = post_mcp(&s, Some(format!("Bearer {elsewhere}"))).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata="), "{challenge}");

    // The same request with a token for this server: served.
    let here = token(s.resource.clone()).await;
    let served = post_mcp(&s, Some(format!("Bearer {here}"))).await;
    assert_eq!(served.status(), 200);

    // Round four: a page elsewhere (another `Origin`) is refused, as the
    // MCP transport spec asks, even with a good token; the server's own
    // origin is served.
    let bearer = Some(format!("Bearer {here}"));
    let foreign = post_mcp_from(&s, bearer.clone(), Some("http://evil.example")).await;
    assert_eq!(foreign.status(), 403);
    let own = s.resource.trim_end_matches("/mcp");
    let same = post_mcp_from(&s, bearer, Some(own)).await;
    assert_eq!(same.status(), 200);
}

/// examples/mcp_client.rs with `args`; its output.
async fn rmcp_client(args: Vec<String>) -> std::process::Output {
    let program = example("mcp_client");
    tokio::task::spawn_blocking(move || Command::new(program).args(args).output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn rmcps_client_credentials_auth_calls_the_mcp_server_with_a_secret_and_with_private_key_jwt()
{
    let s = setup().await;
    let key = s.server.dir.path().join("mcp-signer.pem");
    std::fs::write(&key, &s.signer.pem).unwrap();
    let with = |extra: &[&str]| {
        let mut args = vec!["--server".to_owned(), s.resource.clone()];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    for (args, id) in [
        (
            with(&["--client-id", "mcp-agent", "--client-secret", "secret"]),
            "mcp-agent",
        ),
        (
            with(&[
                "--client-id",
                "mcp-signer",
                "--private-key",
                key.to_str().unwrap(),
            ]),
            "mcp-signer",
        ),
    ] {
        let out = rmcp_client(args).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout, format!("whoami: {id}\n"));
    }

    // A wrong secret: one clear line, exit 1.
    let out = rmcp_client(with(&[
        "--client-id",
        "mcp-agent",
        "--client-secret",
        "wrong",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: no token") && err.contains("invalid_client"),
        "{err}"
    );
}

/// A caller of the MCP server: its token, and the key it is bound to.
struct Caller {
    token: String,
    dpop: Option<Dpop>,
}

impl Caller {
    /// `mcp-agent`'s token for the MCP server with `scope`; bound to a key
    /// with `dpop`.
    async fn new(s: &Setup, scope: &str, dpop: Option<Dpop>) -> Self {
        let token_url = format!("{}/connect/token", s.server.issuer());
        let mut request = s
            .server
            .http
            .post(&token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic("mcp-agent", "secret"))
            .body(format!(
                "grant_type=client_credentials&scope={}&resource={}",
                form(scope),
                form(&s.resource)
            ));
        if let Some(key) = &dpop {
            let now = crate::support::now().unix_timestamp();
            request = request.header("DPoP", key.proof("POST", &token_url, now, None));
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let json: Value = r.json().await.unwrap();
        let token = json["access_token"].as_str().unwrap().to_owned();
        Self { token, dpop }
    }

    /// A JSON-RPC `message` to the MCP server in `session`, if any.
    async fn send(&self, s: &Setup, session: Option<&str>, message: Value) -> reqwest::Response {
        let mut request = s
            .server
            .http
            .post(&s.resource)
            .header("Accept", "application/json, text/event-stream")
            .json(&message);
        request = match &self.dpop {
            None => request.header("Authorization", format!("Bearer {}", self.token)),
            Some(key) => {
                let now = crate::support::now().unix_timestamp();
                let proof = key.proof("POST", &s.resource, now, Some(&self.token));
                request
                    .header("Authorization", format!("DPoP {}", self.token))
                    .header("DPoP", proof)
            }
        };
        if let Some(id) = session {
            request = request
                .header("Mcp-Session-Id", id)
                .header("MCP-Protocol-Version", "2025-06-18");
        }
        request.send().await.unwrap()
    }

    /// An MCP session, initialized: its id.
    async fn session(&self, s: &Setup) -> String {
        let r = self.send(s, None, initialize()).await;
        assert_eq!(r.status(), 200);
        let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        answer(r).await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let r = self.send(s, Some(&id), initialized).await;
        assert_eq!(r.status(), 202);
        id
    }

    /// `tools/call` of `tool` in `session`.
    async fn call(&self, s: &Setup, session: &str, tool: &str) -> reqwest::Response {
        let call = json!({
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": tool, "arguments": {}}
        });
        self.send(s, Some(session), call).await
    }
}

/// The JSON-RPC answer in an MCP response: an event of its stream.
async fn answer(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message.get("id").is_some())
        .unwrap_or_else(|| panic!("no answer in {text}"))
}

/// The text a tool answered.
async fn tool_text(r: reqwest::Response) -> String {
    assert_eq!(r.status(), 200);
    let answer = answer(r).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Also the MCP page's step-up answer (docs/src/generated/mcp-step-up.txt,
/// its address as the page's).
#[tokio::test]
async fn the_admin_tool_needs_mcp_admin_too_and_its_refusal_lists_both_scopes_as_the_handbook_shows()
 {
    let s = setup().await;
    let base = s.resource.trim_end_matches("/mcp");
    let metadata = format!("{base}/.well-known/oauth-protected-resource/mcp");

    // A token with the server's scope only: whoami answers the token's
    // sub (for client credentials the client); the admin tool is a 403
    // that names both scopes (RFC 6750 §3.1, MCP's scope challenge).
    let tools = Caller::new(&s, "mcp:tools", None).await;
    let session = tools.session(&s).await;
    let whoami = tools.call(&s, &session, "whoami").await;
    assert_eq!(tool_text(whoami).await, "mcp-agent");
    let refused = tools.call(&s, &session, "admin_stats").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers()["www-authenticate"].to_str().unwrap(),
        format!(
            r#"Bearer realm="api", error="insufficient_scope", scope="mcp:tools mcp:admin", resource_metadata="{metadata}""#
        )
    );
    let shown = as_curl_shows(refused, &["content-type", "www-authenticate"]).await;
    let at = base.trim_start_matches("http://");
    generated("mcp-step-up.txt", &shown.replace(at, "127.0.0.1:7001"));

    // Asking for what the challenge said: served. Two sessions were
    // opened; the refused call never reached the tool.
    let admin = Caller::new(&s, "mcp:tools mcp:admin", None).await;
    let session = admin.session(&s).await;
    let stats = tool_text(admin.call(&s, &session, "admin_stats").await).await;
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats, json!({"sessions": 2, "tool_calls": 2}));

    // A DPoP-bound token: the same scopes, in the scheme it was sent with.
    let bound = Caller::new(&s, "mcp:tools", Some(Dpop::new())).await;
    let session = bound.session(&s).await;
    let refused = bound.call(&s, &session, "admin_stats").await;
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"DPoP error="insufficient_scope", scope="mcp:tools mcp:admin", "#)
            && challenge.ends_with(&format!(r#"resource_metadata="{metadata}""#)),
        "{challenge}"
    );
}

/// The TypeScript SDK's authorization code client, unmodified, for a
/// person (tests/mcp/person.mjs): a pre-registered public client on a
/// loopback redirect URI; alice signs in through tollgate's form; `whoami`
/// answers her `sub`; the admin tool's 403 names `mcp:tools mcp:admin`,
/// the SDK asks again with that scope (her session at tollgate: no second
/// sign-in), and the call succeeds.
#[tokio::test]
async fn the_typescript_sdk_signs_a_person_in_with_the_code_flow_and_steps_up_for_the_admin_tool() {
    let Some(sdk) = sdk() else { return };
    let s = setup().await;
    let out = node(
        sdk,
        "person.mjs",
        vec![
            ("MCP_SERVER_URL", s.resource.clone()),
            ("MCP_CLIENT_ID", "ide".into()),
            ("MCP_USERNAME", "alice".into()),
            ("MCP_PASSWORD", "alice".into()),
        ],
    )
    .await;
    assert!(out.contains("whoami: alice\n"), "{out}");
    assert!(out.contains("admin_stats: {"), "{out}");
    assert!(
        out.contains("scopes: mcp:tools -> mcp:tools mcp:admin"),
        "{out}"
    );
}
