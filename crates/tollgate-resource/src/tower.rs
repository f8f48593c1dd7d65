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

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode, header};
use tower::{Layer, Service};

use crate::{Claims, ClientCertificate, ResourceMetadata, TokenValidator};

/// A layer that requires a valid access token.
///
/// `public_url` is the API's own address as its clients call it (scheme,
/// host, port, no path): a DPoP proof must name that URL, never the one a
/// request's `Host` header claims.
#[derive(Clone)]
pub struct RequireTokenLayer {
    validator: Arc<TokenValidator>,
    public_url: Arc<str>,
    metadata: Option<Arc<ResourceMetadata>>,
}

impl RequireTokenLayer {
    /// Requires tokens that `validator` accepts, for an API reached at
    /// `public_url`.
    pub fn new(validator: Arc<TokenValidator>, public_url: &str) -> Self {
        Self {
            validator,
            public_url: public_url.trim_end_matches('/').into(),
            metadata: None,
        }
    }

    /// Serves `metadata` (RFC 9728) at its path, to anyone, and names it in
    /// the `resource_metadata` parameter of every challenge. The path must
    /// reach this layer: with axum, route it (or put the layer around the
    /// whole router with `Router::layer` after a fallback).
    pub fn with_metadata(mut self, metadata: ResourceMetadata) -> Self {
        self.metadata = Some(Arc::new(metadata));
        self
    }
}

impl<S> Layer<S> for RequireTokenLayer {
    type Service = RequireToken<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireToken {
            inner,
            validator: self.validator.clone(),
            public_url: self.public_url.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// A service behind [`RequireTokenLayer`].
#[derive(Clone)]
pub struct RequireToken<S> {
    inner: S,
    validator: Arc<TokenValidator>,
    public_url: Arc<str>,
    metadata: Option<Arc<ResourceMetadata>>,
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
        if let Some(metadata) = &self.metadata
            && req.uri().path() == metadata.path()
            && (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
        {
            let metadata = metadata.clone();
            return Box::pin(async move { Ok(metadata_response(&metadata)) });
        }
        let metadata = self.metadata.clone();
        // The service that was polled ready serves this request; a clone
        // takes its place for the next one (tower's documented pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        let url = format!("{}{}", self.public_url, req.uri().path());
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (authorization, dpop) = (header("authorization"), header("dpop"));
        let certificate = req.extensions().get::<ClientCertificate>().cloned();
        let method = req.method().clone();
        Box::pin(async move {
            let judged = validator
                .validate_request_with_certificate(
                    authorization.as_deref(),
                    dpop.as_deref(),
                    method.as_str(),
                    &url,
                    certificate.as_ref(),
                )
                .await;
            match judged {
                Ok(claims) => {
                    req.extensions_mut().insert::<Claims>(claims);
                    inner.call(req).await
                }
                Err(rejection) => {
                    let status = StatusCode::from_u16(rejection.status())
                        .unwrap_or(StatusCode::UNAUTHORIZED);
                    let mut response = Response::new(ResBody::from(rejection.body()));
                    *response.status_mut() = status;
                    let headers = response.headers_mut();
                    headers.insert(
                        header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    let challenge = match &metadata {
                        Some(metadata) => metadata.challenge(&rejection),
                        None => rejection.www_authenticate(),
                    };
                    if let Some(challenge) =
                        challenge.and_then(|c| http::HeaderValue::try_from(c).ok())
                    {
                        headers.insert(header::WWW_AUTHENTICATE, challenge);
                    }
                    Ok(response)
                }
            }
        })
    }
}

/// The metadata document: public, readable from any origin (browser-based
/// MCP clients fetch it), cacheable for a while.
pub fn metadata_response<B: From<String>>(metadata: &ResourceMetadata) -> Response<B> {
    let mut response = Response::new(B::from(metadata.document()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        http::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
