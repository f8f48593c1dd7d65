//! An API in poem that accepts tollgate's tokens with scope `api1`.
//!
//! ```text
//! cargo run -p tollgate-resource --features poem --example poem
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:6002/hello
//! ```

use std::sync::Arc;

use poem::listener::TcpListener;
use poem::web::Data;
use poem::{EndpointExt, Route, Server, get, handler};
use tollgate_resource::poem::RequireToken;
use tollgate_resource::{Claims, TokenValidator};

/// Greets the client the token was issued to.
#[handler]
fn hello(claims: Data<&Claims>) -> String {
    format!("hello, {}\n", claims["client_id"])
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let authority = std::env::var("AUTHORITY").unwrap_or("http://localhost:5001".into());
    let validator = Arc::new(TokenValidator::new(&authority, Some("api1")));
    let app = Route::new()
        .at("/hello", get(hello))
        .with(RequireToken::new(validator, "http://127.0.0.1:6002"));
    Server::new(TcpListener::bind("127.0.0.1:6002"))
        .run(app)
        .await
}
