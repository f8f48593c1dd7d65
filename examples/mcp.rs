//! The sample MCP server: one tool, `whoami`, that answers with the
//! caller's `client_id`, served over MCP's Streamable HTTP transport at
//! `/mcp` (rmcp) and protected by tollgate. Its resource identifier is
//! `http://ADDR/mcp`: tokens must carry the scope and that resource in
//! `aud` (a client asks for it with RFC 8707 `resource`). It serves its RFC
//! 9728 metadata, which names tollgate, at
//! `/.well-known/oauth-protected-resource/mcp`, and names that document in
//! its 401 challenges, so MCP clients find tollgate on their own. The
//! checks are `tollgate-resource`'s tower layer.
//!
//! `cargo run --release --example mcp -- [--authority URL] [--listen ADDR] [--scope NAME]`

use std::sync::Arc;

use axum::Router;
use axum::http::request::Parts;
use clap::Parser;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use tollgate_resource::tower::RequireTokenLayer;
use tollgate_resource::{Claims, ResourceMetadata, TokenValidator};

#[derive(Parser)]
#[command(about = "Sample MCP server protected by tollgate access tokens")]
struct Args {
    /// The authorization server (tollgate's issuer).
    #[arg(long, default_value = "http://localhost:5001")]
    authority: String,
    /// Where this server listens; its resource is http://ADDR/mcp.
    #[arg(long, default_value = "127.0.0.1:7001")]
    listen: String,
    /// The scope a token must carry.
    #[arg(long, default_value = "mcp:tools")]
    scope: String,
}

/// The MCP server: its tools.
#[derive(Clone)]
struct Whoami {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Whoami {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// rmcp hands a tool the HTTP request's parts; the layer put the
    /// token's claims in their extensions.
    #[tool(description = "The client_id of the access token this call was made with")]
    fn whoami(&self, Extension(parts): Extension<Parts>) -> Result<String, ErrorData> {
        parts
            .extensions
            .get::<Claims>()
            .and_then(|claims| claims.get("client_id"))
            .and_then(|id| id.as_str())
            .map(str::to_owned)
            // Unreachable behind the layer; an error, not a guess, if the
            // server is ever mounted without it.
            .ok_or_else(|| ErrorData::internal_error("the request carried no token", None))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Whoami {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    // The resource is `http://ADDR/mcp` as ADDR was given (a host name
    // stays a host name); with port 0 only the bound address can say which.
    let base = if args.listen.ends_with(":0") {
        format!("http://{addr}")
    } else {
        format!("http://{}", args.listen)
    };
    let resource = format!("{base}/mcp");
    let metadata = match ResourceMetadata::new(&resource, &args.authority) {
        Ok(m) => m
            .with_scopes([args.scope.as_str()])
            .with_name("tollgate sample MCP server"),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Tokens for other APIs (another `aud`) are refused here.
    let validator =
        Arc::new(TokenValidator::new(&args.authority, Some(&args.scope)).with_audience(&resource));
    // rmcp refuses Host headers outside this list (DNS rebinding): the
    // loopback names and the address it listens on.
    let hosts = ["localhost", "127.0.0.1", "::1"]
        .map(str::to_owned)
        .into_iter()
        .chain([addr.ip().to_string(), addr.to_string()]);
    // The MCP transport spec: servers MUST validate `Origin` (a browser
    // page elsewhere must not drive a local server); requests without one
    // (agents, the SDKs) pass. Pages of this server's own origin only.
    let origins = [
        "http://localhost:*".to_owned(),
        "http://127.0.0.1:*".to_owned(),
        "http://[::1]:*".to_owned(),
        base.clone(),
    ];
    let mcp = StreamableHttpService::new(
        || Ok(Whoami::new()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins),
    );
    // The fallback makes every path a route, so the layer also sees (and
    // answers) the metadata's well-known path.
    let app = Router::new()
        .nest_service("/mcp", mcp)
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "not found") })
        .layer(RequireTokenLayer::new(validator, &base).with_metadata(metadata));
    eprintln!(
        "MCP server listening on {resource} (authority {}, scope {})",
        args.authority, args.scope
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
