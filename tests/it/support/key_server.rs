//! A stub authority that serves a JWKS (and discovery) and counts what it
//! was asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

/// A stub that serves JWKS (and discovery) and counts what it was asked.
#[derive(Default)]
pub(crate) struct KeyServer {
    pub(crate) url: std::sync::Mutex<String>,
    pub(crate) keys: std::sync::Mutex<Vec<Value>>,
    pub(crate) jwks_fetches: AtomicU64,
    pub(crate) max_age: AtomicU64,
    /// How long the JWKS takes to answer, in milliseconds.
    pub(crate) delay_ms: AtomicU64,
}

pub(crate) async fn key_server() -> Arc<KeyServer> {
    use poem::{EndpointExt, IntoResponse, Route, get, handler, web::Data};
    #[handler]
    async fn jwks(s: Data<&Arc<KeyServer>>) -> poem::Response {
        s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        let delay = s.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        poem::web::Json(json!({"keys": s.keys.lock().unwrap().clone()}))
            .with_header(
                "Cache-Control",
                format!("max-age={}", s.max_age.load(Ordering::SeqCst)),
            )
            .into_response()
    }
    #[handler]
    fn discovery(s: Data<&Arc<KeyServer>>) -> poem::web::Json<Value> {
        let url = s.url.lock().unwrap().clone();
        poem::web::Json(json!({"issuer": url, "jwks_uri": format!("{url}/jwks")}))
    }
    let s = Arc::new(KeyServer::default());
    s.max_age.store(60, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    *s.url.lock().unwrap() = format!("http://{}", listener.local_addr().unwrap());
    let app = Route::new()
        .at("/jwks", get(jwks))
        .at("/.well-known/openid-configuration", get(discovery))
        .data(s.clone());
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    s
}
