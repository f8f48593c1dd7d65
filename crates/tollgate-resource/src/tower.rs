//! The validator as a tower [`Layer`], for axum, tonic and hyper: a
//! request passes with a valid token (its [`Claims`] in the request's
//! extensions: axum's `Extension<Claims>`), or is answered with the
//! [`Rejection`](crate::Rejection)'s status, challenge and RFC 6750 error body.
//! With [`ResourceMetadata`], it also answers its well-known path with the
//! document, and names it in every challenge.
//! A certificate-bound token (RFC 8705) passes only if the request's
//! extensions hold its [`ClientCertificate`]: with hyper and tokio-rustls,
//! take `peer_certificates()` of the accepted connection and add it to each
//! request (e.g. a `map_request` layer around the connection's service).
//! A request whose extensions hold [`RequiredScopes`] (put there by a layer
//! outside this one) also needs those scopes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower::{Layer, Service};

use crate::guard::{self, Guard, Incoming, Reply};
use crate::{Claims, ClientCertificate, RequiredScopes, ResourceMetadata, TokenValidator};

/// A layer that requires a valid access token.
///
/// `public_url` is the API's own address as its clients call it (scheme,
/// host, port, no path): a DPoP proof must name that URL, never the one a
/// request's `Host` header claims.
#[derive(Clone)]
pub struct RequireTokenLayer {
    guard: Arc<Guard>,
}

impl RequireTokenLayer {
    /// Requires tokens that `validator` accepts, for an API reached at
    /// `public_url`.
    pub fn new(validator: Arc<TokenValidator>, public_url: &str) -> Self {
        Self {
            guard: Arc::new(Guard::new(validator, public_url)),
        }
    }

    /// Serves `metadata` (RFC 9728) at its path, to anyone, and names it in
    /// the `resource_metadata` parameter of every challenge. The path must
    /// reach this layer: with axum, route it (or put the layer around the
    /// whole router with `Router::layer` after a fallback).
    pub fn with_metadata(self, metadata: ResourceMetadata) -> Self {
        let guard = Arc::unwrap_or_clone(self.guard).with_metadata(metadata);
        Self {
            guard: Arc::new(guard),
        }
    }
}

impl<S> Layer<S> for RequireTokenLayer {
    type Service = RequireToken<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireToken {
            inner,
            guard: self.guard.clone(),
        }
    }
}

/// A service behind [`RequireTokenLayer`].
#[derive(Clone)]
pub struct RequireToken<S> {
    inner: S,
    guard: Arc<Guard>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireToken<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        if let Some(reply) = self
            .guard
            .metadata_reply(req.method().as_str(), req.uri().path())
        {
            return Box::pin(async move { Ok(into_response(reply)) });
        }
        // The service that was polled ready serves this request; a clone
        // takes its place for the next one (tower's documented pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (authorization, dpop) = (header("authorization"), header("dpop"));
        let certificate = req.extensions().get::<ClientCertificate>().cloned();
        let scopes = req.extensions().get::<RequiredScopes>().cloned();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        Box::pin(async move {
            let judged = guard
                .judge(Incoming {
                    method: method.as_str(),
                    path: &path,
                    authorization: authorization.as_deref(),
                    dpop: dpop.as_deref(),
                    certificate: certificate.as_ref(),
                    scopes: scopes.as_ref(),
                })
                .await;
            match judged {
                Ok(claims) => {
                    req.extensions_mut().insert::<Claims>(claims);
                    inner.call(req).await
                }
                Err(reply) => Ok(into_response(reply)),
            }
        })
    }
}

/// The metadata document: public, readable from any origin (browser-based
/// MCP clients fetch it), cacheable for a while.
pub fn metadata_response<B: From<String>>(metadata: &ResourceMetadata) -> Response<B> {
    into_response(guard::metadata_reply(metadata))
}

fn into_response<B: From<String>>(reply: Reply) -> Response<B> {
    let mut response = Response::new(B::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let Ok(value) = http::HeaderValue::try_from(value) {
            headers.insert(http::HeaderName::from_static(name), value);
        }
    }
    response
}
