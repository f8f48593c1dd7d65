//! Which refusal reasons the core's tests reach. Every variant of
//! [`Reason`] is listed here (the list is checked complete by an
//! exhaustive `match`, so a new reason does not compile until it is
//! placed), and each is either reached by a case of these tables or
//! named below as one only the server produces, with why.

use std::collections::HashSet;

use tollgate_core::Reason;

use crate::support::reached;

/// Lists every reason once, as `ALL`; the `match` fails to compile when a
/// variant is missing.
macro_rules! every_reason {
    ($($variant:ident),* $(,)?) => {
        const ALL: &[Reason] = &[$(Reason::$variant),*];

        #[allow(dead_code)]
        fn listed(reason: Reason) {
            match reason {
                $(Reason::$variant => {})*
            }
        }
    };
}

every_reason![
    WrongContentType,
    BodyTooLarge,
    BodySlow,
    BodyUnreadable,
    MissingParameter,
    RepeatedParameter,
    SeveralAuthMethods,
    ClientIdMismatch,
    UnsupportedAssertionType,
    NoCredentials,
    CertificateWithoutClientId,
    MalformedCredentials,
    ClientIdTooLong,
    UnknownClient,
    WrongSecret,
    NoValidSecret,
    DisabledClient,
    Throttled,
    NoClientKeys,
    KeysUnreachable,
    MalformedAssertion,
    UnknownKey,
    BadSignature,
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
    ReplayQuotaExceeded,
    MalformedCertificate,
    ChainTooLarge,
    UntrustedCertificate,
    NotAnSvid,
    CertificateMismatch,
    NoCertificateRule,
    UnsupportedGrantType,
    UnauthorizedClient,
    InvalidScope,
    UnknownScope,
    ScopeNotAllowed,
    InvalidTarget,
    InvalidDpopProof,
    DpopRequired,
    DpopReplayed,
    InvalidSubjectToken,
    SubjectTokenExpired,
    SubjectClientInactive,
    SubjectTokenRevoked,
    ActChainTooDeep,
    NoExchangeRule,
    UnsupportedTokenType,
    UnsupportedResponseType,
    RedirectUriMismatch,
    PkceRequired,
    InvalidParameter,
    LoginRequired,
    ConsentRequired,
    AccessDenied,
    NotAdmitted,
    UnknownUser,
    DisabledUser,
    WrongPassword,
    PendingInvalid,
    CsrfMismatch,
    ProviderRefused,
    UpstreamInvalid,
    InvalidCode,
    CodeExpired,
    CodeClientMismatch,
    PkceFailed,
    CodeReplayed,
    PersonInactive,
    PersonNotAdmitted,
    InvalidRefreshToken,
    RefreshClientMismatch,
    RefreshTokenExpired,
    RefreshTokenReplayed,
    RefreshFamilyRevoked,
    RefreshDpopMismatch,
    RefreshClientInactive,
    RefreshScopeWidened,
    NoActiveKey,
    SigningFailed,
    SigningKeyUnavailable,
    Internal,
];

/// Reasons the core never produces: the HTTP adapter reads the body
/// before the core sees a byte of it.
const SERVER_ONLY: &[Reason] = &[
    // Not application/x-www-form-urlencoded (src/http/form.rs).
    Reason::WrongContentType,
    // Over the body limit (413).
    Reason::BodyTooLarge,
    // The body did not arrive in time.
    Reason::BodySlow,
    // The connection failed while the body was read.
    Reason::BodyUnreadable,
    // A provider's return this browser did not set out for: the
    // relying party's cookie and state (src/http/upstream).
    Reason::UpstreamInvalid,
];

#[tokio::test]
async fn the_tables_reach_every_reason_the_core_can_give() {
    crate::request::all().await;
    crate::secrets::all().await;
    crate::client_credentials::all().await;
    crate::private_key_jwt::all().await;
    crate::key_rotation::all().await;
    crate::certificates::all().await;
    crate::jwt_bearer::all().await;
    crate::exchange::all().await;
    crate::standing::all().await;
    crate::introspection::all().await;
    crate::trusted_subjects::all().await;
    crate::authorize::all().await;
    crate::upstream::all().await;
    crate::signin::all().await;
    crate::code_grant::all().await;
    crate::refresh::all().await;
    crate::revocation::all().await;
    let reached = reached();
    let all: HashSet<Reason> = ALL.iter().copied().collect();
    let server: HashSet<Reason> = SERVER_ONLY.iter().copied().collect();
    let mut missing: Vec<&str> = all
        .difference(&server)
        .filter(|r| !reached.contains(r))
        .map(|r| r.as_str())
        .collect();
    missing.sort_unstable();
    assert!(missing.is_empty(), "reasons no case reaches: {missing:?}");
    let mut stale: Vec<&str> = server.intersection(&reached).map(|r| r.as_str()).collect();
    stale.sort_unstable();
    assert!(
        stale.is_empty(),
        "server-only reasons a core case reached: {stale:?}"
    );
    println!(
        "{} reasons: {} reached by the core's tables, {} the server's alone",
        ALL.len(),
        reached.len(),
        SERVER_ONLY.len()
    );
}
