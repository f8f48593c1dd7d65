//! `GET /connect/authorize`: the authorization endpoint that discovery
//! names, which refuses every request without redirecting.
//!
//! tollgate serves machine clients: no flow here ever asks a person, so no
//! response type is supported and no client has a redirect URI. The
//! endpoint exists because clients that read RFC 8414 metadata as its
//! §2 reads (`authorization_endpoint` is REQUIRED unless no grant type
//! uses it — the MCP TypeScript SDK among them) refuse a document without
//! one. It is advertised only because it answers, with the RFC 6749
//! §4.1.2.1 error it can give: with no registered redirect URI, the error
//! goes to the caller, never to a URI the request names.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::{ApiTags, AppState};
use tollgate_core::metadata_documents::{is_url_client_id, redirect_uri_listed};

/// The RFC 6749 §4.1.2.1 error codes this endpoint answers with.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "AuthorizationErrorCode", rename_all = "snake_case")]
pub(super) enum AuthorizeErrorCode {
    /// The request names no `response_type`.
    InvalidRequest,
    /// tollgate supports no response type: it issues tokens only at the
    /// token endpoint, to clients that authenticate there.
    UnsupportedResponseType,
}

/// An authorization error (RFC 6749 §4.1.2.1), answered to the caller
/// because there is no redirect URI to send it to.
#[derive(Object)]
#[oai(rename = "AuthorizationError")]
pub struct AuthorizeError {
    error: AuthorizeErrorCode,
    /// What to do instead.
    error_description: String,
}

#[derive(ApiResponse)]
pub enum AuthorizeResponse {
    /// Every request: tollgate has no flow that needs this endpoint.
    #[oai(status = 400)]
    RefusedRequest(
        Json<AuthorizeError>,
        /// `no-store`.
        #[oai(header = "cache-control")]
        String,
    ),
}

pub(super) struct AuthorizeApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl AuthorizeApi {
    /// Authorization endpoint (always refuses)
    ///
    /// Present because RFC 8414 metadata readers require
    /// `authorization_endpoint`; tollgate serves machine clients with the
    /// client credentials grant at the token endpoint, so it supports no
    /// response type (`response_types_supported` is empty). Every request
    /// gets a 400 with the RFC 6749 §4.1.2.1 error here, never a redirect:
    /// no client has a redirect URI.
    #[oai(
        path = "/connect/authorize",
        method = "get",
        tag = "ApiTags::OAuth",
        operation_id = "authorize"
    )]
    async fn authorize(
        &self,
        req: &Request,
        /// Any value is refused: none is supported.
        response_type: Query<Option<String>>,
        /// A client named by a URL (a Client ID Metadata Document) has its
        /// document fetched and checked; any other is not looked up.
        client_id: Query<Option<String>>,
        /// Never redirected to.
        redirect_uri: Query<Option<String>>,
    ) -> AuthorizeResponse {
        if let Some(refused) = self
            .url_client(req, client_id.0.as_deref(), redirect_uri.0.as_deref())
            .await
        {
            return AuthorizeResponse::RefusedRequest(Json(refused), "no-store".into());
        }
        AuthorizeResponse::RefusedRequest(
            Json(refusal(response_type.0.as_deref())),
            "no-store".into(),
        )
    }
}

impl AuthorizeApi {
    /// For a client named by a URL the file allows: its document fetched
    /// (or cached) and checked, and the redirect URI one of its own; the
    /// error when either fails, one answer for every reason a document is
    /// refused (the reason goes to the audit log and the metric).
    async fn url_client(
        &self,
        req: &Request,
        client_id: Option<&str>,
        redirect_uri: Option<&str>,
    ) -> Option<AuthorizeError> {
        let id = client_id.filter(|id| is_url_client_id(id))?;
        let config = self.state.config();
        if !config.registry.metadata_documents().enabled() {
            return None;
        }
        let address = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let refused = |description: &str| AuthorizeError {
            error: AuthorizeErrorCode::InvalidRequest,
            error_description: description.to_owned(),
        };
        let admitted = self
            .state
            .documents
            .admit(&config.registry, id, &self.state.metrics, address)
            .await;
        match config.registry.client(id) {
            Some(client) if admitted.is_ok() => redirect_uri
                .is_some_and(|uri| !redirect_uri_listed(client, uri))
                .then(|| refused("redirect_uri is not one of the client's")),
            _ => Some(refused(
                "the client's metadata document cannot be used; its administrator can tell why",
            )),
        }
    }
}

/// The error for a request with this `response_type`.
fn refusal(response_type: Option<&str>) -> AuthorizeError {
    const INSTEAD: &str = "tollgate issues tokens to machine clients at its token endpoint \
         (grant_type=client_credentials); it has no authorization flow";
    match response_type {
        None | Some("") => AuthorizeError {
            error: AuthorizeErrorCode::InvalidRequest,
            error_description: format!("response_type is missing; {INSTEAD}"),
        },
        Some(_) => AuthorizeError {
            error: AuthorizeErrorCode::UnsupportedResponseType,
            error_description: format!("no response type is supported; {INSTEAD}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_is_refused_with_an_rfc_6749_code() {
        assert_eq!(refusal(None).error, AuthorizeErrorCode::InvalidRequest);
        assert_eq!(refusal(Some("")).error, AuthorizeErrorCode::InvalidRequest);
        for response_type in ["code", "token", "id_token", "code id_token"] {
            assert_eq!(
                refusal(Some(response_type)).error,
                AuthorizeErrorCode::UnsupportedResponseType
            );
        }
    }
}
