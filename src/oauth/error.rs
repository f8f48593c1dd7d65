//! The error responses of RFC 6749 §5.2: one enum of codes, one struct that
//! carries a code and a description safe to show the client.
//!
//! The description is for the client; anything that would help an attacker
//! (which of id or secret was wrong) never goes into it.

use std::borrow::Cow;
use std::fmt;

/// The `error` codes of RFC 6749 §5.2, plus `server_error` for failures of
/// our own (RFC 6749 §4.1.2.1 defines it for the authorization endpoint;
/// token endpoints use it the same way in practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// "The request is missing a required parameter, includes an unsupported
    /// parameter value (other than grant type), repeats a parameter, includes
    /// multiple credentials, utilizes more than one mechanism for
    /// authenticating the client, or is otherwise malformed."
    InvalidRequest,
    /// "Client authentication failed (e.g., unknown client, no client
    /// authentication included, or unsupported authentication method)."
    InvalidClient,
    /// "The provided authorization grant ... is invalid, expired, revoked."
    /// Not produced by client_credentials; kept for completeness of the enum.
    InvalidGrant,
    /// "The authenticated client is not authorized to use this authorization
    /// grant type."
    UnauthorizedClient,
    /// "The authorization grant type is not supported by the authorization
    /// server."
    UnsupportedGrantType,
    /// "The requested scope is invalid, unknown, malformed, or exceeds the
    /// scope granted by the resource owner."
    InvalidScope,
    /// An internal failure; the cause is logged, never sent.
    ServerError,
    /// Too many failed authentications for this client id or address
    /// (RFC 6749 §4.1.2.1 defines the code; answered with 429 and
    /// `Retry-After`, RFC 6585).
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status RFC 6749 §5.2 gives the code: 400, except 401 for
    /// `invalid_client` (we always answer 401 there, which the RFC allows
    /// and every client library understands).
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 429,
            _ => 400,
        }
    }
}

/// Serialized as its RFC name.
impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error response for the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    /// Set when the client tried the `Authorization` header: RFC 6749 §5.2
    /// then requires `WWW-Authenticate` on the 401.
    pub basic_challenge: bool,
    /// Seconds to wait, for `temporarily_unavailable`.
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// The single `invalid_client` answer. Every cause (unknown client, wrong,
    /// expired or missing secret, disabled client) gets these exact bytes so
    /// that the response says nothing about which one it was.
    pub fn invalid_client(basic_challenge: bool) -> Self {
        Self {
            code: ErrorCode::InvalidClient,
            description: Cow::Borrowed("client authentication failed"),
            basic_challenge,
            retry_after: None,
        }
    }

    /// Throttled: wait `wait` before trying again.
    pub fn throttled(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(
                ErrorCode::TemporarilyUnavailable,
                "too many failed authentications; retry later",
            )
        }
    }

    pub fn server_error() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not handle the request",
        )
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}
