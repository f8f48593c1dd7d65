//! Token introspection (RFC 7662): an API authenticates with its secret
//! and learns whether a token is active for it. (Standing after a
//! reload: `standing.rs`.)

use serde_json::{Value, json};
use tollgate_core::introspection::Introspection;
use tollgate_core::{ErrorCode, Reason};

use crate::support::subjects::own;
use crate::support::{API, BILLING, NOW, ORDERS, Req, SECRET, World, client, granted, refused};

fn asked(token: &str) -> Req {
    Req::form(&[("token", token)])
}

async fn answers() {
    let world = World::new(vec![client("caller")]);
    let now = NOW.unix_timestamp();
    let token = own(&world, json!({}));
    let Introspection::Active(active) = granted(
        "an active token",
        world.introspect(&asked(&token).basic(API, SECRET)).await,
    ) else {
        panic!("active")
    };
    assert_eq!(active["active"], true);
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(
        (&active["client_id"], &active["scope"]),
        (&json!("caller"), &json!("api1"))
    );
    let bound = own(&world, json!({"cnf": {"jkt": "thumb"}}));
    let Ok(Introspection::Active(dpop)) = world.introspect(&asked(&bound).basic(API, SECRET)).await
    else {
        panic!("active")
    };
    assert_eq!(dpop["token_type"], "DPoP");
    let inactive: [(&str, String, &str); 6] = [
        ("for another API", token.clone(), ORDERS),
        ("expired", own(&world, json!({"exp": now})), API),
        ("not a JWT", "nope".into(), API),
        (
            "another key's",
            crate::support::Key::new(Some("own-1")).sign_with(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": "own-1"}),
                &json!({"iss": crate::support::ISSUER, "client_id": "caller", "sub": "caller",
                "aud": API, "exp": now + 60}),
            ),
            API,
        ),
        (
            "another issuer's",
            own(&world, json!({"iss": "https://other.example"})),
            API,
        ),
        ("no aud", own(&world, json!({"aud": Value::Null})), API),
    ];
    for (case, token, resource) in inactive {
        let answer = granted(
            case,
            world
                .introspect(&asked(&token).basic(resource, SECRET))
                .await,
        );
        assert_eq!(answer, Introspection::Inactive, "{case}");
    }
}

async fn refusals() {
    let world = World::new(vec![client("caller")]);
    let token = own(&world, json!({}));
    use ErrorCode::{InvalidClient, InvalidRequest};
    use Reason::*;
    let cases = [
        (
            "no credentials",
            asked(&token),
            InvalidClient,
            NoCredentials,
        ),
        (
            "a wrong secret",
            asked(&token).basic(API, "wrong"),
            InvalidClient,
            WrongSecret,
        ),
        (
            "an unknown API",
            asked(&token).basic("https://nope.example", SECRET),
            InvalidClient,
            UnknownClient,
        ),
        (
            "a client is no API",
            asked(&token).basic("caller", SECRET),
            InvalidClient,
            UnknownClient,
        ),
        (
            "an API without secrets",
            asked(&token).basic(BILLING, SECRET),
            InvalidClient,
            NoValidSecret,
        ),
        (
            "an assertion",
            Req::form(&[
                ("token", &token),
                ("client_assertion", "a.b.c"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
            ]),
            InvalidRequest,
            SeveralAuthMethods,
        ),
        (
            "no token",
            Req::form(&[]).basic(API, SECRET),
            InvalidRequest,
            MissingParameter,
        ),
        (
            "token twice",
            Req::form(&[("token", "a"), ("token", "b")]).basic(API, SECRET),
            InvalidRequest,
            RepeatedParameter,
        ),
        (
            "a secret in the body",
            Req::form(&[
                ("token", &token),
                ("client_id", API),
                ("client_secret", "wrong"),
            ]),
            InvalidClient,
            WrongSecret,
        ),
    ];
    for (case, request, code, reason) in cases {
        refused(case, world.introspect(&request).await, code, reason);
    }
}

pub(crate) async fn all() {
    answers().await;
    refusals().await;
}

#[tokio::test]
async fn introspection_answers_active_only_for_the_caller_s_standing_tokens() {
    answers().await;
}

#[tokio::test]
async fn introspection_callers_are_refused_with_their_reasons() {
    refusals().await;
}
