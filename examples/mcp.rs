//! The sample MCP server: two tools, served over MCP's Streamable HTTP
//! transport at `/mcp` (rmcp) and protected by tollgate. `whoami` answers
//! the caller's `sub` (the person signed in, or for client credentials the
//! client itself); `admin_stats` answers what the server has served since
//! it started, and needs `mcp:admin` besides the server's scope. Its
//! resource identifier is `http://ADDR/mcp`: tokens must carry the scope
//! and that resource in `aud` (a client asks for it with RFC 8707
//! `resource`). It serves its RFC 9728 metadata, which names tollgate, at
//! `/.well-known/oauth-protected-resource/mcp`, and names that document in
//! its challenges, so MCP clients find tollgate on their own; a call of
//! `admin_stats` with a token without `mcp:admin` is a 403 whose challenge
//! lists both scopes (step-up). The checks are `tollgate-resource`'s tower
//! layer.
//!
//! `cargo run --release --example mcp -- [--authority URL] [--listen ADDR] [--scope NAME]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::Parser;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, JsonRpcMessage, JsonRpcRequest, ServerCapabilities,
    ServerConfig,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use tollgate_resource::tower::RequireTokenLayer;
use tollgate_resource::{Claims, RequiredScopes, ResourceMetadata, TokenValidator};

/// The tool that needs more than the server's scope, and what it needs.
const ADMIN_TOOL: &str = "admin_stats";
const ADMIN_SCOPE: &str = "mcp:admin";
/// The largest request body, rmcp's own default, set on both readers of
/// a body (the step-up check and rmcp) so they agree on what is read.
const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Parser)]
#[command(about = "Sample MCP server protected by tollgate access tokens")]
struct Args {
    /// The authorization server (tollgate's issuer).
    #[arg(long, default_value = "http://localhost:5001")]
    authority: String,
    /// Where this server listens; its resource is http://ADDR/mcp.
    #[arg(long, default_value = "127.0.0.1:7001")]
    listen: String,
    /// The scope every call needs (`admin_stats` also needs mcp:admin).
    #[arg(long, default_value = "mcp:tools")]
    scope: String,
}

/// What the server has served since it started: `admin_stats`'s answer.
#[derive(Default)]
struct Stats {
    sessions: AtomicU64,
    tool_calls: AtomicU64,
}

/// The MCP server of one session: its tools.
#[derive(Clone)]
struct Tools {
    tool_router: ToolRouter<Self>,
    stats: Arc<Stats>,
}

#[tool_router]
impl Tools {
    fn new(stats: Arc<Stats>) -> Self {
        stats.sessions.fetch_add(1, Ordering::Relaxed);
        Self {
            tool_router: Self::tool_router(),
            stats,
        }
    }

    /// rmcp hands a tool the HTTP request's parts; the layer put the
    /// token's claims in their extensions.
    #[tool(
        description = "The sub of the access token this call was made with: the person signed in, or the client itself"
    )]
    fn whoami(&self, Extension(parts): Extension<Parts>) -> Result<String, ErrorData> {
        self.stats.tool_calls.fetch_add(1, Ordering::Relaxed);
        parts
            .extensions
            .get::<Claims>()
            .and_then(|claims| claims.get("sub"))
            .and_then(|sub| sub.as_str())
            .map(str::to_owned)
            // Unreachable behind the layer; an error, not a guess, if the
            // server is ever mounted without it.
            .ok_or_else(|| ErrorData::internal_error("the request carried no token", None))
    }

    /// The layer admitted this call only with `mcp:admin` too, since
    /// `step_up` said the call needs it.
    #[tool(
        description = "What this server has served since it started: MCP sessions opened and tool calls answered (needs mcp:admin)"
    )]
    fn admin_stats(&self, Extension(parts): Extension<Parts>) -> Result<String, ErrorData> {
        // Unreachable without both; if the server is ever mounted without
        // `step_up` or the layer, the tool refuses rather than serve.
        let judged = parts.extensions.get::<Claims>().is_some()
            && parts
                .extensions
                .get::<RequiredScopes>()
                .is_some_and(|needs| needs.contains(ADMIN_SCOPE));
        if !judged {
            return Err(ErrorData::internal_error(
                "the call was not checked for mcp:admin",
                None,
            ));
        }
        let calls = self.stats.tool_calls.fetch_add(1, Ordering::Relaxed) + 1;
        let sessions = self.stats.sessions.load(Ordering::Relaxed);
        Ok(serde_json::json!({ "sessions": sessions, "tool_calls": calls }).to_string())
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// Marks a call of the admin tool as needing `mcp:admin`, for the layer
/// (inside this middleware) to require with the server's scope. The layer
/// judges a request before rmcp reads its body, so the call's name is read
/// here first: with rmcp's limit and rmcp's own message type, so this
/// reading and rmcp's cannot differ.
async fn step_up(request: Request, next: Next) -> Response {
    // A request without credentials is refused whatever it calls, and only
    // a POST carries a call: no body is read for the others.
    let credentials = request.headers().contains_key(header::AUTHORIZATION);
    if request.method() != Method::POST || !credentials {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let why = format!("the request body is unreadable or over {MAX_BODY} bytes");
        return (StatusCode::PAYLOAD_TOO_LARGE, why).into_response();
    };
    if calls_tool(&body, ADMIN_TOOL) {
        parts.extensions.insert(RequiredScopes::new([ADMIN_SCOPE]));
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Whether `body` is a JSON-RPC `tools/call` of `tool`.
fn calls_tool(body: &[u8], tool: &str) -> bool {
    matches!(
        serde_json::from_slice::<ClientJsonRpcMessage>(body),
        Ok(JsonRpcMessage::Request(JsonRpcRequest {
            request: ClientRequest::CallToolRequest(call),
            ..
        })) if call.params.name == tool
    )
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
        // The scope every call needs: clients start with the least, and
        // are told to ask for mcp:admin when a call needs it (step-up).
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
    let stats = Arc::new(Stats::default());
    let mcp = StreamableHttpService::new(
        move || Ok(Tools::new(stats.clone())),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins)
            .with_max_request_body_bytes(MAX_BODY),
    );
    // The fallback makes every path a route, so the layer also sees (and
    // answers) the metadata's well-known path. `step_up`, the outer layer,
    // runs first.
    let app = Router::new()
        .nest_service("/mcp", mcp)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(RequireTokenLayer::new(validator, &base).with_metadata(metadata))
        .layer(axum::middleware::from_fn(step_up));
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
