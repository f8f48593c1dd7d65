//! The error responses of the token and introspection endpoints (RFC 6749
//! §5.2 and the codes later RFCs added): one enum of codes, one struct
//! that carries a code and a description safe to show the client.
//!
//! The description is for the client; anything that would help an attacker
//! (which of id or secret was wrong) never goes into it. The precise reason
//! travels beside it in a [`super::Refusal`].

use std::borrow::Cow;
use std::fmt;

/// The `error` codes tollgate answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: "The request is missing a required parameter,
    /// includes an unsupported parameter value (other than grant type),
    /// repeats a parameter, includes multiple credentials, utilizes more
    /// than one mechanism for authenticating the client, or is otherwise
    /// malformed."
    InvalidRequest,
    /// RFC 6749 §5.2: "The provided authorization grant ... is invalid,
    /// expired, revoked ...": a subject token (RFC 8693) or a platform's
    /// assertion presented as the grant (RFC 7523 §2.1) that does not hold.
    InvalidGrant,
    /// RFC 6749 §5.2: "Client authentication failed (e.g., unknown client,
    /// no client authentication included, or unsupported authentication
    /// method)."
    InvalidClient,
    /// RFC 6749 §5.2: "The authenticated client is not authorized to use
    /// this authorization grant type."
    UnauthorizedClient,
    /// RFC 6749 §5.2: "The authorization grant type is not supported by the
    /// authorization server."
    UnsupportedGrantType,
    /// RFC 6749 §5.2: "The requested scope is invalid, unknown, malformed,
    /// or exceeds the scope granted by the resource owner."
    InvalidScope,
    /// RFC 8707 §2: "The requested resource is invalid, missing, unknown,
    /// or malformed."
    InvalidTarget,
    /// RFC 9449 §5: the DPoP proof is invalid.
    InvalidDpopProof,
    /// An internal failure; the cause is logged, never sent.
    ServerError,
    /// Throttled, or a store the request needs is unreachable (RFC 6749
    /// §4.1.2.1 defines the code; answered with 429 or 503 and
    /// `Retry-After`).
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// Every code, for documentation.
    pub const ALL: [ErrorCode; 10] = [
        Self::InvalidRequest,
        Self::InvalidGrant,
        Self::InvalidClient,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::InvalidScope,
        Self::InvalidTarget,
        Self::InvalidDpopProof,
        Self::ServerError,
        Self::TemporarilyUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidClient => "invalid_client",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
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

/// What the client must be told besides the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    None,
    /// The client tried the `Authorization` header: RFC 6749 §5.2 then
    /// requires `WWW-Authenticate` on the 401.
    Basic,
}

/// An error response, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub challenge: Challenge,
    /// For `temporarily_unavailable`: why, and how long to wait.
    pub retry: Option<Retry>,
    /// The HTTP status, when the code's own does not fit (413 for a body
    /// too large, which is `invalid_request` but not a 400).
    pub status_override: Option<u16>,
}

/// Why a request should be retried later, and after how many seconds
/// (`Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Too many failed authentications (429).
    Throttled(u64),
    /// A store the request needs is unreachable (503).
    Unavailable(u64),
}

impl Retry {
    pub fn seconds(self) -> u64 {
        match self {
            Self::Throttled(s) | Self::Unavailable(s) => s,
        }
    }
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            challenge: Challenge::None,
            retry: None,
            status_override: None,
        }
    }

    /// The HTTP status of this error: 400, except 401 for `invalid_client`
    /// (always: RFC 6749 allows 400 for `client_secret_post`, but 401 is
    /// what Keycloak and Hydra answer and every library understands), 500
    /// for `server_error`, 429 for throttling and 503 for a store that is
    /// unreachable (both `temporarily_unavailable`, with `Retry-After`).
    pub fn http_status(&self) -> u16 {
        if let Some(status) = self.status_override {
            return status;
        }
        match self.code {
            ErrorCode::InvalidClient => 401,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => match self.retry {
                Some(Retry::Unavailable(_)) => 503,
                _ => 429,
            },
            _ => 400,
        }
    }

    /// The single `invalid_client` answer. Every cause (unknown client,
    /// wrong, expired or missing secret, disabled client, a bad assertion)
    /// gets these exact bytes so that the response says nothing about which
    /// one it was.
    pub fn invalid_client(challenge: Challenge) -> Self {
        Self {
            challenge,
            ..Self::new(ErrorCode::InvalidClient, "client authentication failed")
        }
    }

    /// Throttled: wait `wait` before trying again.
    pub fn throttled(wait: std::time::Duration) -> Self {
        Self {
            retry: Some(Retry::Throttled(whole_seconds(wait))),
            ..Self::new(
                ErrorCode::TemporarilyUnavailable,
                "too many failed authentications; retry later",
            )
        }
    }

    /// A store the request needs (the replay store) cannot be reached.
    pub fn unavailable(retry: std::time::Duration) -> Self {
        Self {
            retry: Some(Retry::Unavailable(whole_seconds(retry))),
            ..Self::new(
                ErrorCode::TemporarilyUnavailable,
                "the server cannot check this request right now; retry later",
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

/// At least one second, rounded up.
fn whole_seconds(d: std::time::Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}
