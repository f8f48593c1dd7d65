//! Why a request was refused, precisely: the operator's word (audit log,
//! metrics), never the client's, which is the protocol's error beside it
//! (`refusal`).

/// Why a request was refused, precisely. Bounded: each is a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    // The request itself.
    WrongContentType,
    BodyTooLarge,
    BodySlow,
    BodyUnreadable,
    MissingParameter,
    RepeatedParameter,
    /// Two ways of authenticating at once (RFC 6749 §2.3).
    SeveralAuthMethods,
    /// `client_id` in the body names another client than the credentials.
    ClientIdMismatch,
    UnsupportedAssertionType,

    // Client authentication: the client sees `invalid_client` for each.
    NoCredentials,
    /// A client certificate, but no `client_id` to say whose it is (RFC
    /// 8705 §2): the request is not one certificate authentication can
    /// judge.
    CertificateWithoutClientId,
    MalformedCredentials,
    /// A client id longer than any registered one can be.
    ClientIdTooLong,
    UnknownClient,
    WrongSecret,
    /// Every secret of the client has expired (or it has none).
    NoValidSecret,
    DisabledClient,
    Throttled,
    /// The client has no keys for `private_key_jwt`.
    NoClientKeys,
    /// The client's or the issuer's keys could not be fetched.
    KeysUnreachable,
    MalformedAssertion,
    UnknownKey,
    BadSignature,
    /// More keys could have signed the assertion than are tried: it names
    /// no `kid` (or one several keys share) and more than
    /// `auth::assertion::MAX_CANDIDATE_KEYS` keys have its algorithm.
    TooManyKeys,
    AlgorithmNotAllowed,
    AssertionExpired,
    AssertionNotYetValid,
    AssertionLifetimeTooLong,
    WrongAudience,
    WrongIssuer,
    MissingClaim,
    AssertionReplayed,
    NoMatchingClient,
    AmbiguousClient,
    ReplayStoreUnavailable,
    /// The client holds its quota of unexpired assertion and proof ids.
    ReplayQuotaExceeded,
    /// A client certificate that does not parse.
    MalformedCertificate,
    /// A chain longer than is looked at (`tollgate_jose::chain`): more
    /// than 4 certificates after the leaf, or more than 16 KiB.
    ChainTooLarge,
    /// The chain does not verify to the client CA or the trust domain's
    /// bundle (or there is none).
    UntrustedCertificate,
    /// A `spiffe://` rule, and the certificate holds not exactly one
    /// `spiffe://` URI SAN.
    NotAnSvid,
    /// The certificate's subject, SAN or key is not the client's.
    CertificateMismatch,
    /// A certificate for a client that authenticates otherwise.
    NoCertificateRule,

    // The grant.
    UnsupportedGrantType,
    UnauthorizedClient,
    InvalidScope,
    /// A requested scope no `[[api_scopes]]` entry declares.
    UnknownScope,
    /// A declared scope the client's `allowed_scopes` does not hold.
    ScopeNotAllowed,
    InvalidTarget,
    InvalidDpopProof,
    DpopRequired,
    DpopReplayed,

    // Token exchange (RFC 8693): the client sees `invalid_grant`, or
    // `invalid_request` for a token type it cannot exchange.
    /// Not a JWT of ours or of a trusted issuer, or its signature or
    /// claims do not check out.
    InvalidSubjectToken,
    SubjectTokenExpired,
    /// A client the subject token stands on (its client, its subject, an
    /// actor of its `act` chain) was removed or disabled, or the trusted
    /// issuer of its subject was removed.
    SubjectClientInactive,
    /// Issued before the `tokens_valid_after` of a client it stands on.
    SubjectTokenRevoked,
    /// The new token's `act` would nest more actors than allowed.
    ActChainTooDeep,
    /// No `[[clients.token_exchange]]` rule of the client takes it.
    NoExchangeRule,
    UnsupportedTokenType,

    // The authorization endpoint, sign-in and consent (a page or an
    // error at the redirect URI; sign-in failures all say the same).
    UnsupportedResponseType,
    /// The redirect URI is none of the client's (or it has several and
    /// the request named none).
    RedirectUriMismatch,
    /// No S256 code challenge, or a malformed one (RFC 7636).
    PkceRequired,
    /// A parameter whose value is not one tollgate takes.
    InvalidParameter,
    /// `prompt=none`, and she would have to sign in.
    LoginRequired,
    /// `prompt=none`, and she would have to consent.
    ConsentRequired,
    /// She denied the request on the consent page.
    AccessDenied,
    /// The client's `allowed_groups` do not admit her.
    NotAdmitted,
    UnknownUser,
    DisabledUser,
    WrongPassword,
    /// A sign-in or consent form whose sealed request is not ours, or
    /// expired.
    PendingInvalid,
    /// A posted form not bound to the browser's CSRF cookie.
    CsrfMismatch,
    /// A provider's rules (`[[login.providers]]`) do not admit her.
    ProviderRefused,
    /// A return from a provider this browser did not set out for.
    UpstreamInvalid,
    // The code and refresh token grants: the client sees `invalid_grant`.
    /// Not a code of ours: it does not open with the sealing key.
    InvalidCode,
    /// Past its 60 s.
    CodeExpired,
    /// Issued to another client.
    CodeClientMismatch,
    /// No, a malformed or a wrong `code_verifier` (RFC 7636 §4.6).
    PkceFailed,
    /// A code redeemed before: its refresh-token family is revoked.
    CodeReplayed,
    /// The person was removed, disabled or revoked since she signed in.
    PersonInactive,
    /// The client's `allowed_groups` no longer admit the person.
    PersonNotAdmitted,
    /// Not a refresh token of ours.
    InvalidRefreshToken,
    /// Issued to another client.
    RefreshClientMismatch,
    /// Past the family's `refresh_token_lifetime` from sign-in.
    RefreshTokenExpired,
    /// A rotated refresh token presented again: its family is revoked.
    RefreshTokenReplayed,
    /// Its family was revoked (a replay, a revocation request).
    RefreshFamilyRevoked,
    /// Bound to a DPoP key the request does not prove (RFC 9449 §5).
    RefreshDpopMismatch,
    /// The client was removed, disabled or revoked since the sign-in.
    RefreshClientInactive,
    /// A scope beyond the refresh token's.
    RefreshScopeWidened,

    // The server.
    NoActiveKey,
    SigningFailed,
    /// The active key is in hardware and its token cannot sign now.
    SigningKeyUnavailable,
    Internal,
}

impl Reason {
    /// A reason a client's credentials (or an assertion standing for
    /// them) did not prove it.
    pub fn authenticates(self) -> bool {
        matches!(
            self,
            Self::NoCredentials
                | Self::CertificateWithoutClientId
                | Self::MalformedCredentials
                | Self::ClientIdTooLong
                | Self::UnknownClient
                | Self::WrongSecret
                | Self::NoValidSecret
                | Self::DisabledClient
                | Self::NoClientKeys
                | Self::KeysUnreachable
                | Self::MalformedAssertion
                | Self::UnknownKey
                | Self::BadSignature
                | Self::TooManyKeys
                | Self::AlgorithmNotAllowed
                | Self::AssertionExpired
                | Self::AssertionNotYetValid
                | Self::AssertionLifetimeTooLong
                | Self::WrongAudience
                | Self::WrongIssuer
                | Self::MissingClaim
                | Self::AssertionReplayed
                | Self::NoMatchingClient
                | Self::AmbiguousClient
                | Self::ClientIdMismatch
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WrongContentType => "wrong_content_type",
            Self::BodyTooLarge => "body_too_large",
            Self::BodySlow => "body_too_slow",
            Self::BodyUnreadable => "body_unreadable",
            Self::MissingParameter => "missing_parameter",
            Self::RepeatedParameter => "repeated_parameter",
            Self::SeveralAuthMethods => "several_auth_methods",
            Self::ClientIdMismatch => "client_id_mismatch",
            Self::UnsupportedAssertionType => "unsupported_assertion_type",
            Self::NoCredentials => "no_credentials",
            Self::CertificateWithoutClientId => "certificate_without_client_id",
            Self::MalformedCredentials => "malformed_credentials",
            Self::ClientIdTooLong => "client_id_too_long",
            Self::UnknownClient => "unknown_client",
            Self::WrongSecret => "wrong_secret",
            Self::NoValidSecret => "no_valid_secret",
            Self::DisabledClient => "disabled_client",
            Self::Throttled => "throttled",
            Self::NoClientKeys => "no_client_keys",
            Self::KeysUnreachable => "keys_unreachable",
            Self::MalformedAssertion => "malformed_assertion",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::TooManyKeys => "too_many_keys",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::AssertionExpired => "expired",
            Self::AssertionNotYetValid => "not_yet_valid",
            Self::AssertionLifetimeTooLong => "lifetime_too_long",
            Self::WrongAudience => "wrong_audience",
            Self::WrongIssuer => "wrong_issuer",
            Self::MissingClaim => "missing_claim",
            Self::AssertionReplayed => "replayed",
            Self::NoMatchingClient => "no_matching_client",
            Self::AmbiguousClient => "ambiguous_client",
            Self::ReplayStoreUnavailable => "replay_store_unavailable",
            Self::ReplayQuotaExceeded => "replay_quota_exceeded",
            Self::MalformedCertificate => "malformed_certificate",
            Self::ChainTooLarge => "chain_too_large",
            Self::UntrustedCertificate => "untrusted_certificate",
            Self::NotAnSvid => "not_an_svid",
            Self::CertificateMismatch => "certificate_mismatch",
            Self::NoCertificateRule => "no_certificate_rule",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::InvalidScope => "invalid_scope",
            Self::UnknownScope => "unknown_scope",
            Self::ScopeNotAllowed => "scope_not_allowed",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::DpopRequired => "dpop_required",
            Self::DpopReplayed => "dpop_replayed",
            Self::InvalidSubjectToken => "invalid_subject_token",
            Self::SubjectTokenExpired => "subject_token_expired",
            Self::SubjectClientInactive => "subject_client_inactive",
            Self::SubjectTokenRevoked => "subject_token_revoked",
            Self::ActChainTooDeep => "act_chain_too_deep",
            Self::NoExchangeRule => "no_exchange_rule",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::RedirectUriMismatch => "redirect_uri_mismatch",
            Self::PkceRequired => "pkce_required",
            Self::InvalidParameter => "invalid_parameter",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::AccessDenied => "access_denied",
            Self::NotAdmitted => "not_admitted",
            Self::UnknownUser => "unknown_user",
            Self::DisabledUser => "disabled_user",
            Self::WrongPassword => "wrong_password",
            Self::PendingInvalid => "pending_invalid",
            Self::CsrfMismatch => "csrf_mismatch",
            Self::ProviderRefused => "provider_refused",
            Self::UpstreamInvalid => "upstream_invalid",
            Self::InvalidCode => "invalid_code",
            Self::CodeExpired => "code_expired",
            Self::CodeClientMismatch => "code_client_mismatch",
            Self::PkceFailed => "pkce_failed",
            Self::CodeReplayed => "code_replayed",
            Self::PersonInactive => "person_inactive",
            Self::PersonNotAdmitted => "person_not_admitted",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::RefreshClientMismatch => "refresh_client_mismatch",
            Self::RefreshTokenExpired => "refresh_token_expired",
            Self::RefreshTokenReplayed => "refresh_token_replayed",
            Self::RefreshFamilyRevoked => "refresh_family_revoked",
            Self::RefreshDpopMismatch => "refresh_dpop_mismatch",
            Self::RefreshClientInactive => "refresh_client_inactive",
            Self::RefreshScopeWidened => "refresh_scope_widened",
            Self::NoActiveKey => "no_active_key",
            Self::SigningFailed => "signing_failed",
            Self::SigningKeyUnavailable => "signing_key_unavailable",
            Self::Internal => "internal",
        }
    }

    /// What the operator can do about it, where the reason alone does not
    /// say: for the audit line, never for the client (whose answer stays
    /// the one the protocol gives).
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            Self::CertificateWithoutClientId => {
                "a client certificate was presented without client_id: the client must send \
                 client_id in the request body to authenticate with it (RFC 8705 section 2)"
            }
            Self::UnknownScope => {
                "the scope is declared by no [[api_scopes]] entry of identity.toml"
            }
            Self::ScopeNotAllowed => "the scope is declared but not in the client's allowed_scopes",
            _ => return None,
        })
    }
}
