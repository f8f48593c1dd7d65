//! The sample protected API: `GET /identity` answers the caller's token
//! claims as `[{"type","value"}]`, if the token is valid and carries the
//! required scope. DPoP-bound tokens come as `Authorization: DPoP` with a
//! proof of the request. The checks are `tollgate-resource`'s poem
//! middleware.
//!
//! `cargo run --example api -- [--authority URL] [--listen ADDR] [--scope NAME]`

use std::sync::Arc;

use clap::Parser;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Json};
use poem::{EndpointExt, Route, get, handler};
use serde_json::{Value, json};
use tollgate_resource::poem::RequireToken;
use tollgate_resource::{Claims, TokenValidator};

#[derive(Parser)]
#[command(about = "Sample API protected by tollgate access tokens")]
struct Args {
    /// The identity server.
    #[arg(long, default_value = "http://localhost:5001")]
    authority: String,
    /// Where this API listens.
    #[arg(long, default_value = "127.0.0.1:6001")]
    listen: String,
    /// The scope a token must carry.
    #[arg(long, default_value = "api1")]
    scope: String,
    /// Also require this value in the token's `aud` (an `[[api_resources]]`
    /// name, for tokens asked for with `resource`).
    #[arg(long)]
    audience: Option<String>,
    /// The address clients call this API at, which DPoP proofs name
    /// (default: http:// and the listening address).
    #[arg(long)]
    public_url: Option<String>,
}

/// The caller's claims, which the middleware put in the request.
#[handler]
fn identity(claims: Data<&Claims>) -> Json<Vec<Value>> {
    let list = claims
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            json!({ "type": k, "value": value })
        })
        .collect();
    Json(list)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut validator = TokenValidator::new(&args.authority, Some(&args.scope));
    if let Some(audience) = &args.audience {
        validator = validator.with_audience(audience);
    }
    let validator = Arc::new(validator);
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
    eprintln!(
        "API listening on http://{addr} (authority {}, scope {})",
        args.authority, args.scope
    );
    // DPoP proofs must name this address, whatever Host a request claims.
    let public_url = args.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let app = Route::new()
        .at("/identity", get(identity))
        .with(RequireToken::new(validator, &public_url));
    let acceptor = TcpAcceptor::from_tokio(listener).expect("tokio listener");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, None)
        .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
