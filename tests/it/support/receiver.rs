//! A relying party's back-channel logout endpoint on loopback: it records
//! every POST (its content type and form) and answers as the test says —
//! 200, another status, or never.

use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::{EndpointExt, Route, handler, post, web::Data};

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply {
    /// 200, as a relying party that logged the session out.
    Ok,
    /// This status.
    Status(u16),
    /// Nothing, ever: the request stays open until the sender gives up.
    Never,
}

/// One POST as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub content_type: String,
    /// The form's pairs, in order.
    pub form: Vec<(String, String)>,
}

struct Shared {
    reply: Reply,
    received: Mutex<Vec<Received>>,
}

/// The receiver; it serves until the test ends.
pub(crate) struct Receiver {
    /// `http://127.0.0.1:PORT/logout`: its back-channel logout URI.
    pub uri: String,
    shared: Arc<Shared>,
}

impl Receiver {
    pub(crate) async fn start(reply: Reply) -> Self {
        #[handler]
        async fn logout(req: &poem::Request, body: String, s: Data<&Arc<Shared>>) -> StatusCode {
            let content_type = req.header("content-type").unwrap_or_default().to_owned();
            let form = form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            s.received
                .lock()
                .unwrap()
                .push(Received { content_type, form });
            match s.reply {
                Reply::Ok => StatusCode::OK,
                Reply::Status(code) => StatusCode::from_u16(code).unwrap(),
                Reply::Never => std::future::pending().await,
            }
        }
        let shared = Arc::new(Shared {
            reply,
            received: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/logout", listener.local_addr().unwrap());
        let app = Route::new()
            .at("/logout", post(logout))
            .data(shared.clone());
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        Self { uri, shared }
    }

    /// The POSTs so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}
