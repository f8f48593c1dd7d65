//! An API in axum that accepts tollgate's tokens with scope `api1`.
//!
//! ```text
//! cargo run -p tollgate-resource --features tower --example axum
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:6003/hello
//! ```

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use tollgate_resource::tower::RequireTokenLayer;
use tollgate_resource::{Claims, TokenValidator};

/// Greets the client the token was issued to.
async fn hello(Extension(claims): Extension<Claims>) -> String {
    format!("hello, {}\n", claims["client_id"])
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let authority = std::env::var("AUTHORITY").unwrap_or("http://localhost:5001".into());
    let validator = Arc::new(TokenValidator::new(&authority, Some("api1")));
    let app = Router::new()
        .route("/hello", get(hello))
        .layer(RequireTokenLayer::new(validator, "http://127.0.0.1:6003"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:6003").await?;
    axum::serve(listener, app).await
}
