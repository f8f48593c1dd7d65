//! The sample MCP client in Rust: rmcp's own client-credentials auth
//! (`auth` feature, the MCP client-credentials extension) reads the MCP
//! server's RFC 9728 metadata, then tollgate's, gets a token for the server
//! (RFC 8707 `resource` = its URL) with a secret or a private_key_jwt
//! assertion, calls the tool `whoami` and prints its answer.
//!
//! `cargo run --release --example mcp_client -- --client-id ID (--client-secret S | --private-key FILE) [--server URL] [--scope NAME]`

use clap::Parser;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{AuthClient, ClientCredentialsConfig, JwtSigningAlgorithm, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

#[derive(Parser)]
#[command(about = "Sample MCP client: calls whoami with a token from tollgate")]
struct Args {
    /// The MCP server.
    #[arg(long, default_value = "http://127.0.0.1:7001/mcp")]
    server: String,
    /// The client registered in identity.toml.
    #[arg(long)]
    client_id: String,
    /// Its secret (client_secret_post).
    #[arg(
        long,
        conflicts_with = "private_key",
        required_unless_present = "private_key"
    )]
    client_secret: Option<String>,
    /// Or its ES256 private key, PKCS#8 PEM (private_key_jwt).
    #[arg(long)]
    private_key: Option<std::path::PathBuf>,
    /// The scope to ask for.
    #[arg(long, default_value = "mcp:tools")]
    scope: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(answer) => {
            println!("whoami: {answer}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<String, String> {
    let scopes = vec![args.scope];
    // The token is for this server: its URL is the resource (RFC 8707).
    let resource = Some(args.server.clone());
    let config = match (args.client_secret, args.private_key) {
        (Some(client_secret), _) => ClientCredentialsConfig::ClientSecret {
            client_id: args.client_id,
            client_secret,
            scopes,
            resource,
        },
        (None, Some(file)) => ClientCredentialsConfig::PrivateKeyJwt {
            client_id: args.client_id,
            signing_key: std::fs::read(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
            signing_algorithm: JwtSigningAlgorithm::ES256,
            token_endpoint_audience: None,
            scopes,
            resource,
        },
        (None, None) => return Err("--client-secret or --private-key is required".into()),
    };

    // Discovery (the server's metadata names tollgate) and the token.
    let mut oauth = OAuthState::new(args.server.as_str(), None)
        .await
        .map_err(|e| format!("cannot reach {}: {e}", args.server))?;
    oauth
        .authenticate_client_credentials(config)
        .await
        .map_err(|e| format!("no token: {e}"))?;
    let manager = oauth
        .into_authorization_manager()
        .ok_or("the client credentials flow did not authorize")?;

    // The MCP session, every request with the token.
    let client = AuthClient::new(reqwest::Client::default(), manager);
    let transport = StreamableHttpClientTransport::with_client(
        client,
        StreamableHttpClientTransportConfig::with_uri(args.server.as_str()),
    );
    let session = ClientConfig::default()
        .serve(transport)
        .await
        .map_err(|e| format!("MCP session refused: {e}"))?;
    let result = session
        .call_tool(CallToolRequestParams::new("whoami"))
        .await
        .map_err(|e| format!("whoami failed: {e}"));
    let _ = session.cancel().await;
    let result = result?;
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .ok_or("whoami answered no text")?;
    if result.is_error == Some(true) {
        return Err(format!("whoami failed: {text}"));
    }
    Ok(text)
}
