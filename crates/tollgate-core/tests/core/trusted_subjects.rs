//! Token exchange of a trusted issuer's subject tokens that do not check
//! out. The client authenticated (with its secret); only the subject
//! token failed, so each is `invalid_grant` with one body.
//!
//! Found here (and fixed): these refusals carried the reasons of a
//! client assertion (`bad_signature`, `expired`, ...), which
//! `Reason::authenticates` counts as failed client authentications; and
//! our token for a trusted issuer's subject (`sub_id` `iss_sub`),
//! exchanged again, lost `sub_id`, so its `sub` was read as one of our
//! clients.

use serde_json::json;
use tollgate_core::exchange::{ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE};
use tollgate_core::introspection::Introspection;
use tollgate_core::{
    Client, ErrorCode, ExchangeRule, GrantType, Reason, Refusal, SubjectIssuer, ThrottleSettings,
};

use crate::support::jws::unsigned;
use crate::support::subjects::{clients, exchange, foreign, idp, world};
use crate::support::{API, Key, NOW, ORDERS, Req, SECRET, World, client, refused};

/// The IdP's tokens that fail, and the reason each is refused with: the
/// subject token's own, never a client assertion's.
fn cases(key: &Key) -> Vec<(&'static str, String, Reason)> {
    let now = NOW.unix_timestamp();
    let claims = json!({"iss": crate::support::subjects::IDP, "sub": "alice",
        "aud": "exchanger", "exp": now + 600});
    use Reason::*;
    vec![
        (
            "another key",
            Key::new(Some("idp-1")).sign(&claims),
            InvalidSubjectToken,
        ),
        (
            "an unknown kid",
            Key::new(Some("idp-9")).sign(&claims),
            InvalidSubjectToken,
        ),
        (
            "alg none",
            unsigned(&json!({"alg": "none"}), &claims),
            InvalidSubjectToken,
        ),
        (
            "long expired",
            foreign(key, json!({"exp": now - 60})),
            SubjectTokenExpired,
        ),
        (
            "issued in the future",
            foreign(key, json!({"iat": now + 60})),
            InvalidSubjectToken,
        ),
        (
            "longer than the IdP's tokens live",
            foreign(key, json!({"iat": now - 7200, "exp": now + 60})),
            InvalidSubjectToken,
        ),
        (
            "no exp",
            foreign(key, json!({"exp": null})),
            InvalidSubjectToken,
        ),
    ]
}

async fn refusals() -> Vec<(&'static str, Refusal)> {
    let key = Key::new(Some("idp-1"));
    let world = world(&key);
    let mut out = Vec::new();
    for (case, token, reason) in cases(&key) {
        let request = exchange("exchanger", &token, JWT_TOKEN_TYPE, &[]);
        let refusal = refused(
            case,
            world.token(&request).await,
            ErrorCode::InvalidGrant,
            reason,
        );
        out.push((case, refusal));
    }
    out
}

pub(crate) async fn all() {
    let refusals = refusals().await;
    // One body, whatever the reason.
    for (case, refusal) in &refusals[1..] {
        assert_eq!(refusal.error, refusals[0].1.error, "{case}");
    }
}

#[tokio::test]
async fn a_trusted_subject_token_that_fails_is_refused_with_one_body() {
    all().await;
}

#[tokio::test]
async fn a_trusted_subject_token_that_fails_is_no_failed_authentication() {
    for (case, refusal) in refusals().await {
        assert!(
            !refusal.is_authentication_failure(),
            "{case}: {:?}",
            refusal.reason
        );
    }
}

#[tokio::test]
async fn a_trusted_subject_stays_the_trusted_issuer_s_when_exchanged_again() {
    let key = Key::new(Some("idp-1"));
    // `relay` exchanges our tokens for ORDERS; one of our clients happens
    // to be called as the IdP's subject is.
    let mut all = clients();
    all.push(Client {
        grant_types: vec![GrantType::TokenExchange],
        token_exchange: vec![ExchangeRule {
            subject_issuer: SubjectIssuer::Own,
            subject_audience: ORDERS.into(),
            resources: vec![API.into()],
        }],
        ..client("relay")
    });
    all.push(client("alice"));
    let mut world = World::with(all.clone(), vec![idp(&key)], ThrottleSettings::default());
    let subject = foreign(&key, json!({}));
    let first = world
        .token(&exchange("exchanger", &subject, JWT_TOKEN_TYPE, &[]))
        .await;
    let first = first.expect("the IdP's token exchanged").access_token;
    let second = world
        .token(&exchange("relay", &first, ACCESS_TOKEN_TYPE, &[]))
        .await;
    let second = second.expect("ours exchanged again").access_token;
    let (first_claims, second_claims) = (world.ports.decode(&first), world.ports.decode(&second));
    assert_eq!(second_claims["sub"], "alice");
    assert_eq!(
        second_claims.get("sub_id"),
        first_claims.get("sub_id"),
        "the IdP's alice, not our client alice"
    );
    // Its standing is the IdP's: trusted no more, the token is inactive.
    world.reload(all, Vec::new());
    let asked = Req::form(&[("token", &second)]).basic(API, SECRET);
    let answer = world
        .introspect(&asked)
        .await
        .expect("the API authenticates");
    assert_eq!(answer, Introspection::Inactive);
}
