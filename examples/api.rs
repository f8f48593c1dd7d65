//! The sample protected API: `GET /identity` answers the caller's token
//! claims as `[{"type","value"}]`, if the token is valid and carries the
//! required scope. DPoP-bound tokens come as `Authorization: DPoP` with a
//! proof of the request.
//!
//! `cargo run --example api -- [--authority URL] [--listen ADDR] [--scope NAME]`

use std::sync::Arc;

use clap::Parser;
use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Json};
use poem::{EndpointExt, IntoResponse, Request, Response, Route, get, handler};
use serde_json::{Value, json};
use tollgate_resource::{Rejection, TokenValidator};

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
}

#[handler]
async fn identity(req: &Request, validator: Data<&Arc<TokenValidator>>) -> Response {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // The URL the client called, for a DPoP proof's htu.
    let url = format!(
        "http://{}{}",
        header("host").unwrap_or_default(),
        req.uri().path()
    );
    match validator
        .validate_request(
            header("authorization"),
            header("dpop"),
            req.method().as_str(),
            &url,
        )
        .await
    {
        Ok(claims) => {
            let list: Vec<Value> = claims
                .into_iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    json!({ "type": k, "value": value })
                })
                .collect();
            Json(list).into_response()
        }
        Err(rejection) => reject(&rejection),
    }
}

fn reject(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = Response::builder().status(status);
    if let Some(challenge) = rejection.www_authenticate() {
        response = response.header("WWW-Authenticate", challenge);
    }
    let body = match rejection.error_code() {
        Some(code) => json!({ "error": code, "error_description": rejection.to_string() }),
        None => json!({ "error_description": rejection.to_string() }),
    };
    if matches!(rejection, Rejection::AuthorityUnavailable(_)) {
        eprintln!("warning: {rejection}");
    }
    response
        .content_type("application/json")
        .body(body.to_string())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let validator = Arc::new(TokenValidator::new(&args.authority, Some(&args.scope)));
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
    let app = Route::new().at("/identity", get(identity)).data(validator);
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
