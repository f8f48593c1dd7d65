//! The sample MCP client for a person, in Rust: rmcp's authorization code
//! flow as an IDE runs it. It reads the MCP server's RFC 9728 metadata,
//! then tollgate's, prints the sign-in address for her browser (PKCE, RFC
//! 8707 `resource` = the server's URL) and waits for tollgate's redirect on
//! a loopback port it picks (tollgate matches a loopback redirect URI on
//! any port, RFC 8252 §7.3); rmcp checks the RFC 9207 `iss` and redeems
//! the code. Then it calls `whoami`. With `--admin` it calls `admin_stats`
//! too: the server's 403 names the scope the tool needs, and the client
//! sends her to tollgate once more for it (step-up). Her session there
//! spares her a second sign-in.
//!
//! `cargo run --release --example mcp_person -- --client-id ide [--server URL] [--admin]`

use std::sync::Arc;

use clap::Parser;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{
    AuthClient, AuthorizationCallback, AuthorizationManager, AuthorizationRequest, OAuthState,
    WWWAuthenticateParams,
};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use tokio::sync::{Mutex, mpsc};

#[derive(Parser)]
#[command(about = "Sample MCP client for a person: signs her in through tollgate")]
struct Args {
    /// The MCP server.
    #[arg(long, default_value = "http://127.0.0.1:7001/mcp")]
    server: String,
    /// The public client registered in identity.toml for this app.
    #[arg(long, default_value = "ide")]
    client_id: String,
    /// Call the admin tool too (it needs `mcp:admin`: step-up).
    #[arg(long)]
    admin: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

type Client = AuthClient<reqwest::Client>;

async fn run(args: Args) -> Result<(), String> {
    let callback = Callback::listen().await?;

    // Discovery, then her sign-in at tollgate.
    let mut oauth = OAuthState::new(args.server.as_str(), None)
        .await
        .map_err(|e| format!("cannot reach {}: {e}", args.server))?;
    let request = AuthorizationRequest::new(&callback.redirect_uri)
        .with_preregistered_client(&args.client_id)
        .with_scopes(["mcp:tools"]);
    oauth
        .start_authorization(request)
        .await
        .map_err(|e| format!("cannot start the sign-in: {e}"))?;
    let url = oauth
        .get_authorization_url()
        .await
        .map_err(|e| e.to_string())?;
    let back = callback.wait_for(&url).await?;
    oauth
        .handle_callback_url(&back)
        .await
        .map_err(|e| format!("the sign-in failed: {e}"))?;
    let manager = oauth
        .into_authorization_manager()
        .ok_or("the sign-in did not authorize")?;
    let client = AuthClient::new(reqwest::Client::default(), manager);

    println!("whoami: {}", call(&args.server, &client, "whoami").await?);
    if !args.admin {
        return Ok(());
    }
    match call(&args.server, &client, "admin_stats").await {
        Ok(stats) => println!("admin_stats: {stats}"),
        Err(Failure::Challenged(challenge)) => {
            // Step-up: the challenge names the scope the tool needs.
            let needed = WWWAuthenticateParams::parse(
                &challenge,
                &reqwest::Url::parse(&args.server).map_err(|e| e.to_string())?,
            )
            .scope
            .ok_or("the server's 403 names no scope")?;
            step_up(&client.auth_manager, &callback, &needed).await?;
            let stats = call(&args.server, &client, "admin_stats").await?;
            println!("admin_stats: {stats}");
        }
        Err(e) => return Err(e.into()),
    }
    let scopes = client.auth_manager.lock().await.get_current_scopes().await;
    println!("scopes: {}", scopes.join(" "));
    Ok(())
}

/// Sends her back to tollgate for `needed` on top of what she granted,
/// and keeps the new tokens in the same manager.
async fn step_up(
    manager: &Arc<Mutex<AuthorizationManager>>,
    callback: &Callback,
    needed: &str,
) -> Result<(), String> {
    let manager = manager.lock().await;
    let url = manager
        .request_scope_upgrade(needed)
        .await
        .map_err(|e| format!("cannot ask for {needed}: {e}"))?;
    let back = callback.wait_for(&url).await?;
    let back = AuthorizationCallback::from_redirect_url(&back).map_err(|e| e.to_string())?;
    manager
        .exchange_code_for_token_with_issuer(&back.code, &back.csrf_token, back.issuer.as_deref())
        .await
        .map_err(|e| format!("the step-up failed: {e}"))?;
    Ok(())
}

/// Why a tool call failed.
enum Failure {
    /// The server's `WWW-Authenticate` challenge (401 or 403).
    Challenged(String),
    Other(String),
}

impl From<Failure> for String {
    fn from(f: Failure) -> String {
        match f {
            Failure::Challenged(c) => format!("refused: {c}"),
            Failure::Other(e) => e,
        }
    }
}

/// Opens an MCP session, calls `tool`, and closes the session: its text.
async fn call(server: &str, client: &Client, tool: &'static str) -> Result<String, Failure> {
    let session = connect(server, client).await?;
    let result = session.call_tool(CallToolRequestParams::new(tool)).await;
    let _ = session.cancel().await;
    let result = result.map_err(|e| match e.auth_challenge() {
        Some(challenge) => Failure::Challenged(challenge.to_owned()),
        None => Failure::Other(format!("{tool} failed: {e}")),
    })?;
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .ok_or_else(|| Failure::Other(format!("{tool} answered no text")))?;
    if result.is_error == Some(true) {
        return Err(Failure::Other(format!("{tool} failed: {text}")));
    }
    Ok(text)
}

async fn connect(
    server: &str,
    client: &Client,
) -> Result<RunningService<RoleClient, ClientConfig>, Failure> {
    let transport = StreamableHttpClientTransport::with_client(
        client.clone(),
        StreamableHttpClientTransportConfig::with_uri(server),
    );
    ClientConfig::default()
        .serve(transport)
        .await
        .map_err(|e| Failure::Other(format!("MCP session refused: {e}")))
}

/// The loopback listener tollgate's redirect comes back to.
struct Callback {
    redirect_uri: String,
    returned: Mutex<mpsc::Receiver<String>>,
}

impl Callback {
    /// Listens on a port the system picks, on loopback only.
    async fn listen() -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen on loopback: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");
        let (tx, rx) = mpsc::channel(4);
        let base = redirect_uri.clone();
        let app = axum::Router::new().route(
            "/callback",
            axum::routing::get(move |uri: axum::http::Uri| {
                let tx = tx.clone();
                let full = format!("{base}?{}", uri.query().unwrap_or(""));
                async move {
                    let _ = tx.send(full).await;
                    "You are signed in. You may close this tab."
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self {
            redirect_uri,
            returned: Mutex::new(rx),
        })
    }

    /// Shows `url` for her browser; the address tollgate sent her back to.
    async fn wait_for(&self, url: &str) -> Result<String, String> {
        eprintln!("Open this address in your browser to sign in: {url}");
        self.returned
            .lock()
            .await
            .recv()
            .await
            .ok_or_else(|| "the callback listener stopped".to_owned())
    }
}
