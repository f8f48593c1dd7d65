//! Token exchange (RFC 8693): our own and a trusted issuer's subject
//! tokens, `act` chains and their limit of 8 actors, `may_act`, targets
//! and scopes; one body for a subject token that is not valid and one no
//! rule takes. (Standing after a reload: `standing.rs`.)

use serde_json::{Value, json};
use tollgate_core::exchange::{ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, MAX_ACTORS};
use tollgate_core::{ErrorCode, Reason};

use crate::support::subjects::{IDP, TOKEN_EXCHANGE, chain, exchange, foreign, own, world};
use crate::support::{
    API, BILLING, ISSUER, Key, NOW, ORDERS, Req, SECRET, World, granted, refused,
};

async fn granted_cases() {
    let key = Key::new(Some("idp-1"));
    let world = world(&key);
    let now = NOW.unix_timestamp();
    let seven: Vec<String> = (1..MAX_ACTORS).map(|i| format!("a{i}")).collect();
    let seven: Vec<&str> = seven.iter().map(String::as_str).collect();
    // (case, request, sub, act of the new token, sub_id)
    let cases: Vec<(&str, Req, &str, Value, Value)> = vec![
        (
            "our token",
            exchange("exchanger", &own(&world, json!({})), ACCESS_TOKEN_TYPE, &[]),
            "caller",
            chain(&["exchanger"]),
            Value::Null,
        ),
        (
            "our token, for ORDERS",
            exchange(
                "exchanger",
                &own(&world, json!({})),
                ACCESS_TOKEN_TYPE,
                &[("resource", ORDERS), ("scope", "orders.read")],
            ),
            "caller",
            chain(&["exchanger"]),
            Value::Null,
        ),
        (
            "an act chain",
            exchange(
                "exchanger",
                &own(&world, json!({"act": chain(&["a1", "a2"])})),
                ACCESS_TOKEN_TYPE,
                &[],
            ),
            "caller",
            chain(&["exchanger", "a1", "a2"]),
            Value::Null,
        ),
        (
            "the eighth actor",
            exchange(
                "exchanger",
                &own(&world, json!({"act": chain(&seven)})),
                ACCESS_TOKEN_TYPE,
                &[],
            ),
            "caller",
            chain(&[["exchanger"].as_slice(), &seven].concat()),
            Value::Null,
        ),
        (
            "may_act names it",
            exchange(
                "exchanger",
                &own(&world, json!({"may_act": {"sub": "exchanger"}})),
                ACCESS_TOKEN_TYPE,
                &[],
            ),
            "caller",
            chain(&["exchanger"]),
            Value::Null,
        ),
        (
            "the IdP's token",
            exchange("exchanger", &foreign(&key, json!({})), JWT_TOKEN_TYPE, &[]),
            "alice",
            chain(&["exchanger"]),
            json!({"format": "iss_sub", "iss": IDP, "sub": "alice"}),
        ),
        (
            "the IdP's act, marked",
            exchange(
                "exchanger",
                &foreign(&key, json!({"act": {"sub": "gateway"}})),
                JWT_TOKEN_TYPE,
                &[],
            ),
            "alice",
            json!({"sub": "exchanger", "act": {"sub": "gateway", "iss": IDP}}),
            json!({"format": "iss_sub", "iss": IDP, "sub": "alice"}),
        ),
    ];
    for (case, request, sub, act, sub_id) in cases {
        let issued = granted(case, world.token(&request).await);
        let claims = world.ports.decode(&issued.access_token);
        assert_eq!(claims["sub"], sub, "{case}");
        assert_eq!(claims["client_id"], "exchanger", "{case}");
        assert_eq!(claims["act"], act, "{case}");
        assert_eq!(
            claims.get("sub_id").cloned().unwrap_or(Value::Null),
            sub_id,
            "{case}"
        );
        assert_eq!(claims["aud"], ORDERS, "{case}");
        assert_eq!(issued.scope, "orders.read", "{case}");
        // Never outlives the subject token.
        assert_eq!(claims["exp"], now + 600, "{case}");
        let delegation = issued.delegation.expect("a delegation");
        assert_eq!(delegation.actors().first(), Some(&"exchanger"), "{case}");
    }
}

async fn refused_cases() {
    let key = Key::new(Some("idp-1"));
    let world = world(&key);
    let now = NOW.unix_timestamp();
    let subject = own(&world, json!({}));
    let eight: Vec<String> = (1..=MAX_ACTORS).map(|i| format!("a{i}")).collect();
    let eight: Vec<&str> = eight.iter().map(String::as_str).collect();
    let big = json!({"sub": "gateway", "note": "x".repeat(1100)});
    let with = |extra: &[(&str, &str)]| exchange("exchanger", &subject, ACCESS_TOKEN_TYPE, extra);
    let of = |token: String, kind: &str| exchange("exchanger", &token, kind, &[]);
    use ErrorCode::{
        InvalidGrant, InvalidRequest, InvalidScope, InvalidTarget, UnauthorizedClient,
    };
    use Reason::*;
    let cases: Vec<(&str, Req, ErrorCode, Reason)> = vec![
        (
            "an actor_token",
            with(&[
                ("actor_token", "x"),
                ("actor_token_type", ACCESS_TOKEN_TYPE),
            ]),
            InvalidRequest,
            UnsupportedTokenType,
        ),
        (
            "an id_token asked for",
            with(&[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            )]),
            InvalidRequest,
            UnsupportedTokenType,
        ),
        (
            "a SAML subject",
            of(subject.clone(), "urn:ietf:params:oauth:token-type:saml2"),
            InvalidRequest,
            UnsupportedTokenType,
        ),
        (
            "no subject_token_type",
            Req::form(&[("grant_type", TOKEN_EXCHANGE), ("subject_token", &subject)])
                .basic("exchanger", SECRET),
            InvalidRequest,
            MissingParameter,
        ),
        (
            "not a JWT",
            of("nope".into(), ACCESS_TOKEN_TYPE),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "our iss, another key",
            of(
                Key::new(Some("own-1")).sign_with(
                    &json!({"alg": "ES256", "typ": "at+jwt", "kid": "own-1"}),
                    &json!({"iss": ISSUER, "sub": "caller", "client_id": "caller", "aud": API,
                "exp": now + 600}),
                ),
                ACCESS_TOKEN_TYPE,
            ),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "an issuer nobody trusts",
            of(
                foreign(&key, json!({"iss": "https://x.example"})),
                JWT_TOKEN_TYPE,
            ),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "no sub",
            of(
                own(
                    &world,
                    json!({"sub": null, "sub_id": {"format": "iss_sub",
            "iss": IDP, "sub": "x"}}),
                ),
                ACCESS_TOKEN_TYPE,
            ),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "the IdP's act, a string",
            of(foreign(&key, json!({"act": "gateway"})), JWT_TOKEN_TYPE),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "the IdP's act without sub",
            of(
                foreign(&key, json!({"act": {"act": {"sub": "x"}}})),
                JWT_TOKEN_TYPE,
            ),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "the IdP's act over 1 KiB",
            of(foreign(&key, json!({"act": big})), JWT_TOKEN_TYPE),
            InvalidGrant,
            InvalidSubjectToken,
        ),
        (
            "expired",
            of(own(&world, json!({"exp": now})), ACCESS_TOKEN_TYPE),
            InvalidGrant,
            SubjectTokenExpired,
        ),
        (
            "the IdP's, just expired",
            of(foreign(&key, json!({"exp": now - 10})), JWT_TOKEN_TYPE),
            InvalidGrant,
            SubjectTokenExpired,
        ),
        (
            "for an audience no rule names",
            of(own(&world, json!({"aud": ORDERS})), ACCESS_TOKEN_TYPE),
            InvalidGrant,
            NoExchangeRule,
        ),
        (
            "the IdP's, for another",
            of(foreign(&key, json!({"aud": "someone"})), JWT_TOKEN_TYPE),
            InvalidGrant,
            NoExchangeRule,
        ),
        (
            "may_act names another",
            of(
                own(&world, json!({"may_act": {"sub": "a1"}})),
                ACCESS_TOKEN_TYPE,
            ),
            InvalidGrant,
            NoExchangeRule,
        ),
        (
            "a ninth actor",
            of(
                own(&world, json!({"act": chain(&eight)})),
                ACCESS_TOKEN_TYPE,
            ),
            InvalidGrant,
            ActChainTooDeep,
        ),
        (
            "a resource no rule allows",
            with(&[("resource", API)]),
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "an audience no rule allows",
            with(&[("audience", BILLING)]),
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "a scope of no target",
            with(&[("scope", "api1")]),
            InvalidScope,
            Reason::InvalidScope,
        ),
        (
            "a scope not of the target asked",
            with(&[("scope", "api1"), ("resource", ORDERS)]),
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "a scope not allowed",
            with(&[("scope", "admin")]),
            InvalidScope,
            Reason::ScopeNotAllowed,
        ),
        (
            "a rule's API that is gone",
            exchange("nowhere", &subject, ACCESS_TOKEN_TYPE, &[]),
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "no scope of the rule's APIs",
            exchange("picky", &subject, ACCESS_TOKEN_TYPE, &[]),
            InvalidScope,
            Reason::InvalidScope,
        ),
        (
            "a client without the grant",
            exchange("caller", &subject, ACCESS_TOKEN_TYPE, &[]),
            UnauthorizedClient,
            Reason::UnauthorizedClient,
        ),
    ];
    for (case, request, code, reason) in cases {
        refused(case, world.token(&request).await, code, reason);
    }
}

/// A client learns nothing of tokens it cannot use: a subject token that
/// is not valid, expired, or one no rule of this client takes, get the
/// same body.
async fn one_body() {
    let key = Key::new(Some("idp-1"));
    let world = world(&key);
    let answers = [
        of(&world, "nope".into()).await,
        of(&world, own(&world, json!({"exp": NOW.unix_timestamp()}))).await,
        of(&world, own(&world, json!({"aud": ORDERS}))).await,
        of(&world, own(&world, json!({"may_act": {"sub": "a1"}}))).await,
        of(&world, own(&world, json!({"client_id": "gone"}))).await,
    ];
    let reasons: Vec<Reason> = answers.iter().map(|r| r.reason).collect();
    assert_eq!(
        reasons,
        [
            Reason::InvalidSubjectToken,
            Reason::SubjectTokenExpired,
            Reason::NoExchangeRule,
            Reason::NoExchangeRule,
            Reason::SubjectClientInactive
        ]
    );
    for answer in &answers[1..] {
        assert_eq!(answer.error, answers[0].error, "{:?}", answer.reason);
    }
}

async fn of(world: &World, token: String) -> tollgate_core::Refusal {
    let request = exchange("exchanger", &token, ACCESS_TOKEN_TYPE, &[]);
    world.token(&request).await.expect_err("refused").refusal
}

pub(crate) async fn all() {
    granted_cases().await;
    refused_cases().await;
    one_body().await;
}

#[tokio::test]
async fn subject_tokens_exchanged_with_their_act_chains() {
    granted_cases().await;
}

#[tokio::test]
async fn exchanges_refused_with_their_reasons() {
    refused_cases().await;
}

#[tokio::test]
async fn invalid_and_not_taken_subject_tokens_get_one_body() {
    one_body().await;
}
