//! A refused request: the error the client sees and the precise reason the
//! operator sees (audit log, metrics). One type, so the reason can never
//! drift from the response, and the response is built in one place (the
//! HTTP adapter) from it.

use super::error::{Challenge, ErrorCode, OAuthError};
pub use super::reason::Reason;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error: OAuthError,
    pub reason: Reason,
}

impl Refusal {
    pub fn new(error: OAuthError, reason: Reason) -> Self {
        Self { error, reason }
    }

    /// The grant's own error (RFC 6749 §5.2 `invalid_grant`): the grant
    /// (an assertion, a subject token) does not hold.
    pub(crate) fn invalid_grant(reason: Reason, description: &'static str) -> Self {
        Self::new(
            OAuthError::new(ErrorCode::InvalidGrant, description),
            reason,
        )
    }

    pub fn invalid_request(
        reason: Reason,
        description: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        Self::new(
            OAuthError::new(ErrorCode::InvalidRequest, description),
            reason,
        )
    }

    /// A failed client authentication: the one `invalid_client` body.
    pub fn client(reason: Reason, challenge: Challenge) -> Self {
        Self::new(OAuthError::invalid_client(challenge), reason)
    }

    pub fn server_error(reason: Reason) -> Self {
        Self::new(OAuthError::server_error(), reason)
    }

    /// Why a token was not signed: a key in hardware that cannot sign now
    /// is a 503 `temporarily_unavailable` with `Retry-After` (as an
    /// unreachable replay store is); anything else is the server's error.
    pub(crate) fn not_signed(error: crate::ports::PortError) -> Self {
        use crate::ports::PortError;
        match error {
            PortError::NoActiveKey => Self::server_error(Reason::NoActiveKey),
            PortError::Failed => Self::server_error(Reason::SigningFailed),
            PortError::KeyUnavailable(retry) => Self::new(
                OAuthError {
                    description: "the server cannot sign tokens right now; retry later".into(),
                    ..OAuthError::unavailable(retry)
                },
                Reason::SigningKeyUnavailable,
            ),
        }
    }

    /// Whether this is a failed client authentication (`invalid_client`,
    /// a platform's assertion presented as the grant that did not prove a
    /// client, or throttled before Argon2 ran): counted by reason.
    pub fn is_authentication_failure(&self) -> bool {
        self.takes_equal_time() || self.reason == Reason::Throttled
    }

    /// Whether this failure is answered only after the same time as every
    /// other failed authentication, so its timing tells nothing: every
    /// `invalid_client`, and the `invalid_grant` of an assertion grant
    /// (RFC 7523 §2.1), which authenticates the client as a
    /// `client_assertion` would.
    pub fn takes_equal_time(&self) -> bool {
        match self.error.code {
            ErrorCode::InvalidClient => true,
            ErrorCode::InvalidGrant => self.reason.authenticates(),
            _ => false,
        }
    }
}

impl From<OAuthError> for Refusal {
    /// An error whose code says it all (`invalid_scope`, ...).
    fn from(error: OAuthError) -> Self {
        let reason = match error.code {
            ErrorCode::InvalidRequest => Reason::MissingParameter,
            ErrorCode::InvalidGrant => Reason::InvalidSubjectToken,
            ErrorCode::InvalidClient => Reason::MalformedCredentials,
            ErrorCode::UnauthorizedClient => Reason::UnauthorizedClient,
            ErrorCode::UnsupportedGrantType => Reason::UnsupportedGrantType,
            ErrorCode::InvalidScope => Reason::InvalidScope,
            ErrorCode::InvalidTarget => Reason::InvalidTarget,
            ErrorCode::InvalidDpopProof => Reason::InvalidDpopProof,
            ErrorCode::ServerError => Reason::Internal,
            ErrorCode::TemporarilyUnavailable => Reason::Throttled,
        };
        Self { error, reason }
    }
}

/// A refused token request, and the client id it claimed (for the audit
/// trail), if it got as far as naming one.
#[derive(Debug, Clone)]
pub struct RefusedRequest {
    pub refusal: Refusal,
    pub claimed_id: Option<String>,
}

impl From<Refusal> for RefusedRequest {
    fn from(refusal: Refusal) -> Self {
        Self {
            refusal,
            claimed_id: None,
        }
    }
}
