//! Workload identity federation: a platform's token as the grant (RFC
//! 7523 §2.1, `jwt-bearer`) or as a client assertion. Its failures are
//! the grant's (`invalid_grant`), each with the reason a client
//! assertion would have.

use std::time::Duration;

use serde_json::{Value, json};
use tollgate_core::{
    AuthMethod, Client, CopiedClaim, ErrorCode, FederatedRule, GrantType, JWT_BEARER_GRANT,
    KeySource, Reason, SubjectPattern, ThrottleSettings, TrustedIssuer,
};
use tollgate_jose::jose::JwksLocation;

use crate::support::jws::{set, unsigned};
use crate::support::{Key, NOW, Req, SECRET, World, client, granted, patched, refused};

const K8S: &str = "https://k8s.example";
const AUDIENCE: &str = "tollgate";

fn issuers(key: &Key) -> Vec<TrustedIssuer> {
    let issuer = |name: &str, iss: &str, keys| TrustedIssuer {
        name: name.into(),
        issuer: iss.into(),
        keys,
        audience: Some(AUDIENCE.into()),
        max_token_lifetime: Duration::from_secs(3600),
        fingerprint: tollgate_jose::digest::sha256(name.as_bytes()),
    };
    let gone = KeySource::Remote(JwksLocation {
        url: "https://ci.example/jwks".parse().unwrap(),
        discovery: false,
    });
    vec![
        issuer("cluster", K8S, KeySource::Static(set(&[key]))),
        issuer("ci", "https://ci.example", gone),
    ]
}

/// A client that the tokens of `issuer` whose `sub` matches `subject` are.
fn federated(id: &str, issuer: &str, subject: &str) -> Client {
    Client {
        federated: vec![FederatedRule {
            issuer: issuer.into(),
            subject: SubjectPattern::new(subject).unwrap(),
            claims: Vec::new(),
            copy: vec![CopiedClaim {
                name: "namespace".into(),
                path: "/kubernetes.io/namespace".into(),
            }],
        }],
        secrets: Default::default(),
        ..client(id)
    }
}

fn world(key: &Key) -> World {
    let clients = vec![
        federated("billing", "cluster", "system:serviceaccount:billing:*"),
        federated("twin-a", "cluster", "system:serviceaccount:shared:*"),
        federated("twin-b", "cluster", "system:serviceaccount:shared:*"),
        Client {
            enabled: false,
            ..federated("off", "cluster", "system:serviceaccount:off:*")
        },
        Client {
            grant_types: vec![GrantType::TokenExchange],
            ..federated("exchange-only", "cluster", "system:serviceaccount:xonly:*")
        },
        federated("ci-client", "ci", "*"),
        client("svc"),
    ];
    World::with(clients, issuers(key), ThrottleSettings::default())
}

/// A platform token's claims, `patch` over them (`null` removes).
fn platform(sub: &str, patch: Value) -> Value {
    let now = NOW.unix_timestamp();
    let claims = json!({"iss": K8S, "sub": format!("system:serviceaccount:{sub}"),
        "aud": AUDIENCE, "iat": now - 10, "exp": now + 600,
        "kubernetes.io": {"namespace": "billing"}});
    patched(claims, patch)
}

fn grant(token: &str, extra: &[(&str, &str)]) -> Req {
    let mut params = vec![("grant_type", JWT_BEARER_GRANT), ("assertion", token)];
    params.extend_from_slice(extra);
    Req::form(&params)
}

async fn federated_cases() {
    let key = Key::new(Some("p1"));
    let world = world(&key);
    let good = key.sign(&platform("billing:worker", json!({})));
    let issued = granted("a platform token", world.token(&grant(&good, &[])).await);
    assert_eq!(
        (issued.client.id.as_str(), issued.method),
        ("billing", AuthMethod::Federated)
    );
    let claims = world.ports.decode(&issued.access_token);
    assert_eq!(claims["namespace"], "billing", "copy_claims");
    // Presented again (platforms do), and as a client assertion.
    granted(
        "the same token again",
        world.token(&grant(&good, &[])).await,
    );
    let assertion = Req::form(&[
        ("grant_type", "client_credentials"),
        ("client_assertion", &good),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
    ]);
    granted("as a client assertion", world.token(&assertion).await);

    let now = NOW.unix_timestamp();
    let sign = |sub: &str, patch: Value| key.sign(&platform(sub, patch));
    let stranger = Key::new(Some("p1"));
    // Not a trusted issuer's: read as a client's own assertion.
    let untrusted = key.sign(
        &json!({"iss": "https://nobody.example", "sub": "https://nobody.example",
        "aud": AUDIENCE, "exp": now + 60}),
    );
    use ErrorCode::{InvalidGrant, InvalidRequest, UnauthorizedClient};
    use Reason::*;
    let cases: Vec<(&str, Req, ErrorCode, Reason)> = vec![
        (
            "no rule takes it",
            grant(&sign("other:x", json!({})), &[]),
            InvalidGrant,
            NoMatchingClient,
        ),
        (
            "two clients' rules take it",
            grant(&sign("shared:x", json!({})), &[]),
            InvalidGrant,
            AmbiguousClient,
        ),
        (
            "a disabled client",
            grant(&sign("off:x", json!({})), &[]),
            InvalidGrant,
            DisabledClient,
        ),
        (
            "client_id another",
            grant(&good, &[("client_id", "svc")]),
            InvalidGrant,
            ClientIdMismatch,
        ),
        (
            "another audience",
            grant(&sign("billing:w", json!({"aud": "other"})), &[]),
            InvalidGrant,
            WrongAudience,
        ),
        (
            "expired",
            grant(&sign("billing:w", json!({"exp": now - 31})), &[]),
            InvalidGrant,
            AssertionExpired,
        ),
        (
            "issued in the future",
            grant(&sign("billing:w", json!({"iat": now + 31})), &[]),
            InvalidGrant,
            AssertionNotYetValid,
        ),
        (
            "longer than the issuer allows",
            grant(&sign("billing:w", json!({"exp": now + 3600})), &[]),
            InvalidGrant,
            AssertionLifetimeTooLong,
        ),
        (
            "no exp",
            grant(&sign("billing:w", json!({"exp": null})), &[]),
            InvalidGrant,
            MissingClaim,
        ),
        (
            "an unknown kid",
            grant(
                &key.sign_with(
                    &json!({"alg": "ES256", "kid": "p9"}),
                    &platform("billing:w", json!({})),
                ),
                &[],
            ),
            InvalidGrant,
            UnknownKey,
        ),
        (
            "another key",
            grant(&stranger.sign(&platform("billing:w", json!({}))), &[]),
            InvalidGrant,
            BadSignature,
        ),
        (
            "alg none",
            grant(
                &unsigned(&json!({"alg": "none"}), &platform("billing:w", json!({}))),
                &[],
            ),
            InvalidGrant,
            AlgorithmNotAllowed,
        ),
        (
            "keys that cannot be fetched",
            grant(
                &key.sign(
                    &json!({"iss": "https://ci.example", "sub": "x", "aud": AUDIENCE,
                "exp": now + 60}),
                ),
                &[],
            ),
            InvalidGrant,
            KeysUnreachable,
        ),
        (
            "an issuer nobody trusts",
            grant(&untrusted, &[]),
            InvalidGrant,
            UnknownClient,
        ),
        (
            "not a JWT",
            grant("nope", &[]),
            InvalidGrant,
            MalformedAssertion,
        ),
        (
            "and a secret",
            grant(&good, &[]).basic("svc", SECRET),
            InvalidRequest,
            SeveralAuthMethods,
        ),
        (
            "no assertion",
            Req::form(&[("grant_type", JWT_BEARER_GRANT)]),
            InvalidRequest,
            MissingParameter,
        ),
        (
            "a client without client_credentials",
            grant(&sign("xonly:w", json!({})), &[]),
            UnauthorizedClient,
            Reason::UnauthorizedClient,
        ),
    ];
    for (case, request, code, reason) in cases {
        let refusal = refused(case, world.token(&request).await, code, reason);
        // RFC 7523 §2.1: the assertion authenticates the client, so its
        // failures take the time of every failed authentication.
        assert_eq!(refusal.takes_equal_time(), code == InvalidGrant, "{case}");
    }
}

pub(crate) async fn all() {
    federated_cases().await;
}

#[tokio::test]
async fn platform_tokens_prove_one_client_or_fail_as_the_grant() {
    federated_cases().await;
}
