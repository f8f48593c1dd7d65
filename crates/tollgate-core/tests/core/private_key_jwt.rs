//! `private_key_jwt` (RFC 7523 §2.2): a client's own signed assertion.
//! Each rule of the assertion (algorithm, audience, times, lifetime,
//! single use, `kid`) refused with its reason; the replay store's
//! failures are a 503. (Keys fetched again: `key_rotation.rs`.)

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tollgate_core::{AuthMethod, Client, ErrorCode, KeySource, Reason};
use tollgate_jose::jose::JwksLocation;
use tollgate_jose::replay::MemoryReplay;

use crate::support::jws::{set, unsigned};
use crate::support::{
    ISSUER, Key, NOW, Req, TOKEN_ENDPOINT, World, client, granted, patched, refused,
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The claims of a good assertion of `iss`, with `patch` over them
/// (`null` removes a claim); each has its own `jti`.
pub(crate) fn claims(iss: &str, patch: Value) -> Value {
    static JTI: AtomicU64 = AtomicU64::new(0);
    let now = NOW.unix_timestamp();
    let claims = json!({"iss": iss, "sub": iss, "aud": ISSUER, "iat": now,
        "exp": now + 300, "jti": format!("jti-{}", JTI.fetch_add(1, Ordering::SeqCst))});
    patched(claims, patch)
}

pub(crate) fn with_assertion(token: &str, client_id: Option<&str>) -> Req {
    let mut params = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion", token),
        ("client_assertion_type", JWT_BEARER),
    ];
    params.extend(client_id.map(|id| ("client_id", id)));
    Req::form(&params)
}

pub(crate) fn keyed(id: &str, keys: KeySource) -> Client {
    Client {
        keys,
        secrets: Default::default(),
        ..client(id)
    }
}

pub(crate) fn remote(url: &str) -> KeySource {
    KeySource::Remote(JwksLocation {
        url: url.parse().unwrap(),
        discovery: false,
    })
}

async fn assertion_cases() {
    let key = Key::new(Some("k1"));
    let other = Key::new(Some("k1"));
    let many: Vec<Key> = (0..5).map(|_| Key::new(None)).collect();
    let world = World::new(vec![
        keyed("signer", KeySource::Static(set(&[&key]))),
        Client {
            enabled: false,
            ..keyed("disabled", KeySource::Static(set(&[&key])))
        },
        keyed("keyless", KeySource::None),
        keyed("unreachable", remote("https://gone.example/jwks")),
        keyed(
            "crowded",
            KeySource::Static(set(&many.iter().collect::<Vec<_>>())),
        ),
    ]);
    let ok = key.sign(&claims("signer", json!({})));
    let issued = granted(
        "a good assertion",
        world.token(&with_assertion(&ok, Some("signer"))).await,
    );
    assert_eq!(issued.method, AuthMethod::PrivateKeyJwt);
    let now = NOW.unix_timestamp();
    let sign = |patch: Value| key.sign(&claims("signer", patch));
    // The token endpoint's URL is an audience too.
    let endpoint = sign(json!({"aud": [TOKEN_ENDPOINT]}));
    granted(
        "the token endpoint",
        world.token(&with_assertion(&endpoint, None)).await,
    );
    let long = "x".repeat(300);
    use Reason::*;
    let cases: Vec<(&str, String, Option<&str>, Reason)> = vec![
        ("used before", ok.clone(), None, AssertionReplayed),
        (
            "alg none",
            unsigned(&json!({"alg": "none"}), &claims("signer", json!({}))),
            None,
            AlgorithmNotAllowed,
        ),
        (
            "alg HS256",
            unsigned(
                &json!({"alg": "HS256", "kid": "k1"}),
                &claims("signer", json!({})),
            ),
            None,
            AlgorithmNotAllowed,
        ),
        (
            "a crit header",
            key.sign_with(
                &json!({"alg": "ES256", "crit": ["x"], "x": 1}),
                &claims("signer", json!({})),
            ),
            None,
            MalformedAssertion,
        ),
        (
            "another audience",
            sign(json!({"aud": "https://other.example"})),
            None,
            WrongAudience,
        ),
        (
            "us and another",
            sign(json!({"aud": [ISSUER, "https://other.example"]})),
            None,
            WrongAudience,
        ),
        (
            "no audience",
            sign(json!({"aud": null})),
            None,
            WrongAudience,
        ),
        (
            "expired",
            sign(json!({"exp": now - 31})),
            None,
            AssertionExpired,
        ),
        (
            "issued in the future",
            sign(json!({"iat": now + 31})),
            None,
            AssertionNotYetValid,
        ),
        (
            "not before later",
            sign(json!({"nbf": now + 31})),
            None,
            AssertionNotYetValid,
        ),
        (
            "valid for more than an hour",
            sign(json!({"exp": now + 3601})),
            None,
            AssertionLifetimeTooLong,
        ),
        (
            "issued long ago",
            sign(json!({"iat": now - 3600, "exp": now + 60})),
            None,
            AssertionLifetimeTooLong,
        ),
        (
            "exp as text",
            sign(json!({"exp": "soon"})),
            None,
            MalformedAssertion,
        ),
        ("no exp", sign(json!({"exp": null})), None, MissingClaim),
        ("no jti", sign(json!({"jti": null})), None, MissingClaim),
        ("no iss", sign(json!({"iss": null})), None, MissingClaim),
        (
            "sub is another",
            sign(json!({"sub": "other"})),
            None,
            WrongIssuer,
        ),
        (
            "client_id another",
            sign(json!({})),
            Some("other"),
            ClientIdMismatch,
        ),
        (
            "an unknown kid",
            key.sign_with(
                &json!({"alg": "ES256", "kid": "k9"}),
                &claims("signer", json!({})),
            ),
            None,
            UnknownKey,
        ),
        (
            "another key, same kid",
            other.sign(&claims("signer", json!({}))),
            None,
            BadSignature,
        ),
        (
            "no kid among five keys",
            many[0].sign(&claims("crowded", json!({}))),
            None,
            TooManyKeys,
        ),
        (
            "an unknown client",
            key.sign(&claims("nobody", json!({}))),
            None,
            UnknownClient,
        ),
        (
            "a disabled client",
            key.sign(&claims("disabled", json!({}))),
            None,
            DisabledClient,
        ),
        (
            "a client without keys",
            key.sign(&claims("keyless", json!({}))),
            None,
            NoClientKeys,
        ),
        (
            "keys that cannot be fetched",
            key.sign(&claims("unreachable", json!({}))),
            None,
            KeysUnreachable,
        ),
        (
            "an id longer than any",
            key.sign(&claims(&long, json!({}))),
            None,
            ClientIdTooLong,
        ),
        ("not a JWT", "not-a-jwt".into(), None, MalformedAssertion),
    ];
    for (case, token, client_id, reason) in cases {
        let outcome = world.token(&with_assertion(&token, client_id)).await;
        let refusal = refused(case, outcome, ErrorCode::InvalidClient, reason);
        assert!(refusal.takes_equal_time(), "{case}");
    }
}

/// The replay store unreachable or the client over its quota: the
/// request cannot be judged, a 503 with `Retry-After`.
async fn replay_store() {
    let key = Key::new(Some("k1"));
    let cases = [
        // One identifier fills it.
        (MemoryReplay::new(1, 100), Reason::ReplayStoreUnavailable),
        // Half full, and the client holds its quota of one.
        (MemoryReplay::new(2, 1), Reason::ReplayQuotaExceeded),
    ];
    for (store, reason) in cases {
        let mut world = World::new(vec![keyed("signer", KeySource::Static(set(&[&key])))]);
        world.ports.replay = store;
        let first = key.sign(&claims("signer", json!({})));
        granted(
            "the first",
            world.token(&with_assertion(&first, None)).await,
        );
        let second = key.sign(&claims("signer", json!({})));
        let refusal = refused(
            &format!("{reason:?}"),
            world.token(&with_assertion(&second, None)).await,
            ErrorCode::TemporarilyUnavailable,
            reason,
        );
        assert_eq!(refusal.error.http_status(), 503);
    }
}

pub(crate) async fn all() {
    assertion_cases().await;
    replay_store().await;
}

#[tokio::test]
async fn each_rule_of_an_assertion_has_its_reason() {
    assertion_cases().await;
}

#[tokio::test]
async fn a_replay_store_that_cannot_judge_is_a_503() {
    replay_store().await;
}
