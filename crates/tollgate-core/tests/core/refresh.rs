//! The refresh token grant: rotation, a reused token revoking its family,
//! the family's absolute lifetime, a narrower scope, the person and the
//! client revoked, and a public client's token bound to its DPoP key.

use serde_json::json;
use time::OffsetDateTime;
use tollgate_core::ErrorCode::{InvalidGrant, InvalidScope};
use tollgate_core::{Client, Reason, User};

use crate::support::people::{
    SIGNED_IN, alice, code, redeem, redeem_public, refresh, spa, web, world,
};
use crate::support::{Key, NOW, Req, TOKEN_ENDPOINT, World, granted, refused};

/// A refresh token from a sign-in of `scope` at `web`.
async fn signed_in(world: &World, scope: &str) -> String {
    let sealed = code(world, "web", scope, |_| {});
    let issued = granted("redeem", world.token(&redeem(&sealed)).await);
    issued.refresh_token.expect("offline_access was granted")
}

async fn rotation_and_reuse() {
    let world = world();
    let first = signed_in(&world, "openid profile api1 offline_access").await;
    let next = granted("refresh", world.token(&refresh(&first, None)).await);
    let second = next.refresh_token.clone().expect("a new refresh token");
    assert_ne!(second, first, "rotated");
    let access = world.ports.decode(&next.access_token);
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["scope"], "openid profile api1 offline_access");
    assert_eq!(access["auth_time"], SIGNED_IN);
    let id = world.ports.decode(&next.id_token.expect("openid"));
    assert!(!id.contains_key("nonce"), "no nonce at a refresh");
    assert_eq!(id["name"], "Alice Smith");
    let third = granted("the new one", world.token(&refresh(&second, None)).await)
        .refresh_token
        .unwrap();
    refused(
        "a used one again",
        world.token(&refresh(&first, None)).await,
        InvalidGrant,
        Reason::RefreshTokenReplayed,
    );
    refused(
        "the newest of a revoked family",
        world.token(&refresh(&third, None)).await,
        InvalidGrant,
        Reason::RefreshFamilyRevoked,
    );
}

async fn scope_at_a_refresh() {
    let world = world();
    let token = signed_in(&world, "openid api1 orders.read offline_access").await;
    let narrower = granted(
        "narrower",
        world
            .token(&refresh(&token, Some("openid orders.read")))
            .await,
    );
    let access = world.ports.decode(&narrower.access_token);
    assert_eq!(access["scope"], "openid orders.read");
    // The next refresh token keeps the sign-in's scope (RFC 6749 §6).
    let next = narrower.refresh_token.unwrap();
    let full = granted("full again", world.token(&refresh(&next, None)).await);
    assert_eq!(
        world.ports.decode(&full.access_token)["scope"],
        "openid api1 orders.read offline_access"
    );
    let token = signed_in(&world, "openid orders.read offline_access").await;
    refused(
        "wider",
        world.token(&refresh(&token, Some("openid api1"))).await,
        InvalidScope,
        Reason::RefreshScopeWidened,
    );
}

async fn when_a_refresh_token_no_longer_holds() {
    let mut world = world();
    let token = signed_in(&world, "openid offline_access").await;
    let after = |s: i64| Some(OffsetDateTime::from_unix_timestamp(s).unwrap());
    refused(
        "not ours",
        world.token(&refresh("bm90IGEgdG9rZW4", None)).await,
        InvalidGrant,
        Reason::InvalidRefreshToken,
    );
    let cases: Vec<(&str, Vec<Client>, Vec<User>, Reason)> = vec![
        ("alice removed", vec![web()], vec![], Reason::PersonInactive),
        (
            "alice revoked",
            vec![web()],
            vec![User {
                tokens_valid_after: after(SIGNED_IN + 1),
                ..alice()
            }],
            Reason::PersonInactive,
        ),
        (
            "the client revoked",
            vec![Client {
                tokens_valid_after: after(SIGNED_IN + 1),
                ..web()
            }],
            vec![alice()],
            Reason::RefreshClientInactive,
        ),
    ];
    for (case, clients, users, reason) in cases {
        world.reload_people(clients, users);
        refused(
            case,
            world.token(&refresh(&token, None)).await,
            InvalidGrant,
            reason,
        );
    }
    world.reload_people(vec![web(), spa()], vec![alice()]);
    // Thirty days from the sign-in, whatever the rotations.
    world.now = OffsetDateTime::from_unix_timestamp(SIGNED_IN + 30 * 24 * 3600).unwrap();
    refused(
        "past refresh_token_lifetime",
        world.token(&refresh(&token, None)).await,
        InvalidGrant,
        Reason::RefreshTokenExpired,
    );
    world.now = NOW;
    let spa_code = code(&world, "spa", "openid offline_access", |_| {});
    let spas = granted("spa", world.token(&redeem_public(&spa_code)).await)
        .refresh_token
        .unwrap();
    refused(
        "another client's",
        world.token(&refresh(&spas, None)).await,
        InvalidGrant,
        Reason::RefreshClientMismatch,
    );
    granted("still good", world.token(&refresh(&token, None)).await);
}

/// A DPoP proof of `key` for the token endpoint.
fn proof(key: &Key, jti: &str) -> String {
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk});
    let claims = json!({"htm": "POST", "htu": TOKEN_ENDPOINT,
        "iat": NOW.unix_timestamp(), "jti": jti});
    key.sign_with(&header, &claims)
}

async fn a_public_clients_refresh_token_is_bound_to_its_dpop_key() {
    let world = world();
    let key = Key::new(None);
    let sealed = code(&world, "spa", "openid offline_access", |_| {});
    let issued = granted(
        "bound",
        world
            .token(&redeem_public(&sealed).dpop(&proof(&key, "p1")))
            .await,
    );
    let access = world.ports.decode(&issued.access_token);
    assert!(
        access["cnf"]["jkt"].is_string(),
        "the access token is bound"
    );
    let token = issued.refresh_token.unwrap();
    let public = |proof: Option<String>| {
        let request = Req::form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token.as_str()),
            ("client_id", "spa"),
        ]);
        match proof {
            Some(p) => request.dpop(&p),
            None => request,
        }
    };
    refused(
        "no proof",
        world.token(&public(None)).await,
        InvalidGrant,
        Reason::RefreshDpopMismatch,
    );
    refused(
        "another key",
        world
            .token(&public(Some(proof(&Key::new(None), "p2"))))
            .await,
        InvalidGrant,
        Reason::RefreshDpopMismatch,
    );
    let next = granted(
        "its key",
        world.token(&public(Some(proof(&key, "p3")))).await,
    );
    assert_eq!(
        world.ports.decode(&next.access_token)["cnf"],
        access["cnf"],
        "bound to the same key"
    );
}

pub(crate) async fn all() {
    rotation_and_reuse().await;
    scope_at_a_refresh().await;
    when_a_refresh_token_no_longer_holds().await;
    a_public_clients_refresh_token_is_bound_to_its_dpop_key().await;
}

#[tokio::test]
async fn the_refresh_token_cases() {
    all().await;
}
