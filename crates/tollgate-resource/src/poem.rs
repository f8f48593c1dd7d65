//! The validator as poem middleware: a request passes with a valid token
//! (its [`Claims`] in the request's extensions, for handlers to take with
//! `Data<&Claims>`), or is answered with the [`Rejection`]'s status,
//! challenge and RFC 6750 error body. With [`ResourceMetadata`], it also
//! answers its well-known path with the document, and names it in every
//! challenge. A certificate-bound token (RFC 8705)
//! passes only if the request's extensions hold its
//! [`ClientCertificate`]: poem's own listeners do not expose the peer's
//! certificate, so insert it where the connection is accepted (or, behind
//! a proxy you trust, from its header) before this middleware. A request
//! whose extensions hold [`RequiredScopes`] (put there by a middleware
//! before this one) also needs those scopes.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::guard::{self, Guard, Incoming, Reply};
use crate::{
    Claims, ClientCertificate, Rejection, RequiredScopes, ResourceMetadata, TokenValidator,
};

/// Middleware that requires a valid access token.
///
/// `public_url` is the API's own address as its clients call it (scheme,
/// host, port, no path): a DPoP proof must name that URL, never the one a
/// request's `Host` header claims.
pub struct RequireToken {
    guard: Guard,
}

impl RequireToken {
    /// Requires tokens that `validator` accepts, for an API reached at
    /// `public_url`.
    pub fn new(validator: Arc<TokenValidator>, public_url: &str) -> Self {
        Self {
            guard: Guard::new(validator, public_url),
        }
    }

    /// Serves `metadata` (RFC 9728) at its path, to anyone, and names it in
    /// the `resource_metadata` parameter of every challenge. The path must
    /// reach this middleware: put it around the whole route.
    pub fn with_metadata(self, metadata: ResourceMetadata) -> Self {
        Self {
            guard: self.guard.with_metadata(metadata),
        }
    }
}

impl<E: Endpoint> Middleware<E> for RequireToken {
    type Output = RequireTokenEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequireTokenEndpoint {
            inner,
            guard: Arc::new(self.guard.clone()),
        }
    }
}

/// An endpoint behind [`RequireToken`].
pub struct RequireTokenEndpoint<E> {
    inner: E,
    guard: Arc<Guard>,
}

impl<E: Endpoint> Endpoint for RequireTokenEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_owned();
        if let Some(reply) = self.guard.metadata_reply(req.method().as_str(), &path) {
            return Ok(into_response(reply));
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let judged = self
            .guard
            .judge(Incoming {
                method: req.method().as_str(),
                path: &path,
                authorization: header("authorization"),
                dpop: header("dpop"),
                certificate: req.extensions().get::<ClientCertificate>(),
                scopes: req.extensions().get::<RequiredScopes>(),
            })
            .await;
        match judged {
            Ok(claims) => {
                req.extensions_mut().insert::<Claims>(claims);
                Ok(self.inner.call(req).await?.into_response())
            }
            Err(reply) => Ok(into_response(reply)),
        }
    }
}

/// The response that refuses a request: status, `WWW-Authenticate`, and
/// the error as JSON.
pub fn response(rejection: &Rejection) -> Response {
    into_response(guard::refusal(rejection, rejection.www_authenticate()))
}

/// The metadata document: public, readable from any origin (browser-based
/// MCP clients fetch it), cacheable for a while.
pub fn metadata_response(metadata: &ResourceMetadata) -> Response {
    into_response(guard::metadata_reply(metadata))
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = Response::builder().status(status);
    for (name, value) in reply.headers {
        response = response.header(name, value);
    }
    response.body(reply.body)
}
