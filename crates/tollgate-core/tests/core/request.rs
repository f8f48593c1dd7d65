//! The token request as a whole, before and after any grant: parameters,
//! which authentication method, DPoP proofs (RFC 9449), the order of the
//! checks, throttling, and what a failing port becomes.

use std::time::Duration;

use serde_json::json;
use tollgate_core::{ErrorCode, PortError, Reason, Retry, ThrottleSettings, TokenType};

use crate::support::{Key, NOW, Req, SECRET, TOKEN_ENDPOINT, World, client, granted, refused};

const CC: (&str, &str) = ("grant_type", "client_credentials");

/// Requests refused before a grant is judged.
async fn malformed_requests() {
    let world = World::new(vec![client("svc")]);
    use ErrorCode::{InvalidClient, InvalidRequest, UnsupportedGrantType};
    let assertion_type = (
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    );
    let cases = [
        (
            "no grant_type",
            Req::form(&[("scope", "api1")]).basic("svc", SECRET),
            InvalidRequest,
            Reason::MissingParameter,
        ),
        (
            "scope twice",
            Req::form(&[CC, ("scope", "api1"), ("scope", "api1")]).basic("svc", SECRET),
            InvalidRequest,
            Reason::RepeatedParameter,
        ),
        (
            "Basic and client_secret",
            Req::form(&[CC, ("client_secret", SECRET)]).basic("svc", SECRET),
            InvalidRequest,
            Reason::SeveralAuthMethods,
        ),
        (
            "Basic and an assertion",
            Req::form(&[CC, ("client_assertion", "a.b.c"), assertion_type]).basic("svc", SECRET),
            InvalidRequest,
            Reason::SeveralAuthMethods,
        ),
        (
            "Basic and another client_id",
            Req::form(&[CC, ("client_id", "other")]).basic("svc", SECRET),
            InvalidRequest,
            Reason::ClientIdMismatch,
        ),
        (
            "an assertion without its type",
            Req::form(&[CC, ("client_assertion", "a.b.c")]),
            InvalidRequest,
            Reason::MissingParameter,
        ),
        (
            "an assertion of another type",
            Req::form(&[
                CC,
                ("client_assertion", "a.b.c"),
                ("client_assertion_type", "saml"),
            ]),
            InvalidRequest,
            Reason::UnsupportedAssertionType,
        ),
        (
            "no credentials",
            Req::form(&[CC]),
            InvalidClient,
            Reason::NoCredentials,
        ),
        (
            "client_id alone",
            Req::form(&[CC, ("client_id", "svc")]),
            InvalidClient,
            Reason::NoCredentials,
        ),
        (
            "a Bearer header",
            Req {
                authorization: Some(b"Bearer x".to_vec()),
                ..Req::form(&[CC])
            },
            InvalidClient,
            Reason::MalformedCredentials,
        ),
        // An unknown grant type is judged after authentication: an
        // unauthenticated caller learns only that authentication failed.
        (
            "password, wrong secret",
            Req::form(&[("grant_type", "password")]).basic("svc", "nope"),
            InvalidClient,
            Reason::WrongSecret,
        ),
        (
            "password",
            Req::form(&[("grant_type", "password")]).basic("svc", SECRET),
            UnsupportedGrantType,
            Reason::UnsupportedGrantType,
        ),
    ];
    for (case, request, code, reason) in cases {
        refused(case, world.token(&request).await, code, reason);
    }
}

/// A DPoP proof of `key` for the token endpoint.
fn proof(key: &Key, jti: &str, iat: i64) -> String {
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk});
    let claims = json!({"htm": "POST", "htu": TOKEN_ENDPOINT,
        "iat": iat, "jti": jti});
    key.sign_with(&header, &claims)
}

async fn dpop_proofs() {
    let world = World::new(vec![
        client("svc"),
        tollgate_core::Client {
            require_dpop: true,
            ..client("bound")
        },
    ]);
    let key = Key::new(None);
    let now = NOW.unix_timestamp();
    let request = |id: &str| Req::form(&[CC]).basic(id, SECRET);
    let issued = granted(
        "a proof",
        world
            .token(&request("svc").dpop(&proof(&key, "1", now)))
            .await,
    );
    assert_eq!(issued.token_type, TokenType::DPoP);
    let claims = world.ports.decode(&issued.access_token);
    let jkt = tollgate_jose::jose::parse_jwk(&key.jwk).unwrap().thumbprint;
    assert_eq!(claims["cnf"], json!({"jkt": jkt}));
    let bearer = granted("no proof", world.token(&request("svc")).await);
    assert_eq!(bearer.token_type, TokenType::Bearer);
    use ErrorCode::{InvalidDpopProof, InvalidRequest};
    let cases = [
        (
            "the same proof again",
            request("svc").dpop(&proof(&key, "1", now)),
            InvalidDpopProof,
            Reason::DpopReplayed,
        ),
        (
            "not a JWT",
            request("svc").dpop("nope"),
            InvalidDpopProof,
            Reason::InvalidDpopProof,
        ),
        (
            "two proofs",
            request("svc")
                .dpop(&proof(&key, "2", now))
                .dpop(&proof(&key, "3", now)),
            InvalidDpopProof,
            Reason::InvalidDpopProof,
        ),
        (
            "a proof of long ago",
            request("svc").dpop(&proof(&key, "4", now - 600)),
            InvalidDpopProof,
            Reason::InvalidDpopProof,
        ),
        (
            "a client that must send one",
            request("bound"),
            InvalidRequest,
            Reason::DpopRequired,
        ),
    ];
    for (case, request, code, reason) in cases {
        refused(case, world.token(&request).await, code, reason);
    }
    granted(
        "a bound client's proof",
        world
            .token(&request("bound").dpop(&proof(&key, "5", now)))
            .await,
    );
}

/// What a failing port becomes: the server's error, or a 503 with
/// `Retry-After` for a key in hardware that cannot sign now.
async fn failing_ports() {
    let request = Req::form(&[CC]).basic("svc", SECRET);
    let cases = [
        (
            PortError::NoActiveKey,
            ErrorCode::ServerError,
            Reason::NoActiveKey,
        ),
        (
            PortError::Failed,
            ErrorCode::ServerError,
            Reason::SigningFailed,
        ),
        (
            PortError::KeyUnavailable(Duration::from_millis(4500)),
            ErrorCode::TemporarilyUnavailable,
            Reason::SigningKeyUnavailable,
        ),
    ];
    for (error, code, reason) in cases {
        let mut world = World::new(vec![client("svc")]);
        world.ports.sign_error = Some(error);
        let refusal = refused(
            &format!("{error:?}"),
            world.token(&request).await,
            code,
            reason,
        );
        if reason == Reason::SigningKeyUnavailable {
            assert_eq!(refusal.error.retry, Some(Retry::Unavailable(5)));
            assert_eq!(refusal.error.http_status(), 503);
        }
    }
    let mut world = World::new(vec![client("svc")]);
    world.ports.slow_error = Some(PortError::Failed);
    refused(
        "Argon2 could not run",
        world.token(&request).await,
        ErrorCode::ServerError,
        Reason::Internal,
    );
}

/// Uncached failures are throttled per id and address; a verified
/// secret is never throttled.
async fn throttling() {
    let settings = ThrottleSettings {
        client_failures: 2,
        address_failures: 0,
        window: Duration::from_secs(60),
    };
    let world = World::with(vec![client("svc")], Vec::new(), settings);
    // Argon2 runs for the first right secret too: it counts.
    granted(
        "the right secret",
        world.token(&Req::form(&[CC]).basic("svc", SECRET)).await,
    );
    let wrong = Req::form(&[CC]).basic("svc", "wrong");
    refused(
        "a wrong secret",
        world.token(&wrong).await,
        ErrorCode::InvalidClient,
        Reason::WrongSecret,
    );
    let refusal = refused(
        "another one",
        world.token(&wrong).await,
        ErrorCode::TemporarilyUnavailable,
        Reason::Throttled,
    );
    assert_eq!(refusal.error.http_status(), 429);
    assert!(matches!(refusal.error.retry, Some(Retry::Throttled(s)) if s >= 1));
    granted(
        "the right secret, from the cache",
        world.token(&Req::form(&[CC]).basic("svc", SECRET)).await,
    );
}

pub(crate) async fn all() {
    malformed_requests().await;
    dpop_proofs().await;
    failing_ports().await;
    throttling().await;
}

#[tokio::test]
async fn requests_are_refused_before_any_grant_with_their_reason() {
    malformed_requests().await;
}

#[tokio::test]
async fn dpop_proofs_bind_tokens_once_each() {
    dpop_proofs().await;
}

#[tokio::test]
async fn failing_ports_are_the_servers_errors() {
    failing_ports().await;
}

#[tokio::test]
async fn failed_authentications_are_throttled() {
    throttling().await;
}
