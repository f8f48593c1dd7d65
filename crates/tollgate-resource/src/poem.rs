//! The validator as poem middleware: a request passes with a valid token
//! (its [`Claims`] in the request's extensions, for handlers to take with
//! `Data<&Claims>`), or is answered with the [`Rejection`]'s status,
//! challenge and RFC 6750 error body. With [`ResourceMetadata`], it also
//! answers its well-known path with the document, and names it in every
//! challenge. A certificate-bound token (RFC 8705)
//! passes only if the request's extensions hold its
//! [`ClientCertificate`]: poem's own listeners do not expose the peer's
//! certificate, so insert it where the connection is accepted (or, behind
//! a proxy you trust, from its header) before this middleware.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::{Claims, ClientCertificate, Rejection, ResourceMetadata, TokenValidator};

/// Middleware that requires a valid access token.
///
/// `public_url` is the API's own address as its clients call it (scheme,
/// host, port, no path): a DPoP proof must name that URL, never the one a
/// request's `Host` header claims.
pub struct RequireToken {
    validator: Arc<TokenValidator>,
    public_url: Arc<str>,
    metadata: Option<Arc<ResourceMetadata>>,
}

impl RequireToken {
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
    /// reach this middleware: put it around the whole route.
    pub fn with_metadata(mut self, metadata: ResourceMetadata) -> Self {
        self.metadata = Some(Arc::new(metadata));
        self
    }
}

impl<E: Endpoint> Middleware<E> for RequireToken {
    type Output = RequireTokenEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequireTokenEndpoint {
            inner,
            validator: self.validator.clone(),
            public_url: self.public_url.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// An endpoint behind [`RequireToken`].
pub struct RequireTokenEndpoint<E> {
    inner: E,
    validator: Arc<TokenValidator>,
    public_url: Arc<str>,
    metadata: Option<Arc<ResourceMetadata>>,
}

impl<E: Endpoint> Endpoint for RequireTokenEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if let Some(metadata) = &self.metadata
            && req.uri().path() == metadata.path()
            && (req.method() == poem::http::Method::GET || req.method() == poem::http::Method::HEAD)
        {
            return Ok(metadata_response(metadata));
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let url = format!("{}{}", self.public_url, req.uri().path());
        let judged = self
            .validator
            .validate_request_with_certificate(
                header("authorization"),
                header("dpop"),
                req.method().as_str(),
                &url,
                req.extensions().get::<ClientCertificate>(),
            )
            .await;
        match judged {
            Ok(claims) => {
                req.extensions_mut().insert::<Claims>(claims);
                Ok(self.inner.call(req).await?.into_response())
            }
            Err(rejection) => {
                let challenge = match &self.metadata {
                    Some(metadata) => metadata.challenge(&rejection),
                    None => rejection.www_authenticate(),
                };
                Ok(refusal(&rejection, challenge))
            }
        }
    }
}

/// The response that refuses a request: status, `WWW-Authenticate`, and
/// the error as JSON.
pub fn response(rejection: &Rejection) -> Response {
    refusal(rejection, rejection.www_authenticate())
}

fn refusal(rejection: &Rejection, challenge: Option<String>) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json");
    if let Some(challenge) = challenge {
        response = response.header("WWW-Authenticate", challenge);
    }
    response.body(rejection.body())
}

/// The metadata document: public, readable from any origin (browser-based
/// MCP clients fetch it), cacheable for a while.
pub fn metadata_response(metadata: &ResourceMetadata) -> Response {
    Response::builder()
        .content_type("application/json")
        .header("Access-Control-Allow-Origin", "*")
        .header("Cache-Control", "public, max-age=3600")
        .body(metadata.document())
}
