//! The authorization code grant at the token endpoint: a sealed code
//! redeemed once, by its client, with its redirect URI and PKCE
//! verifier, for a person who still stands; what the access token and
//! the id token say; a public client's `client_id` alone; a replayed code
//! revoking what the first use issued.

use serde_json::Value;
use tollgate_core::ErrorCode::{InvalidClient, InvalidGrant, InvalidRequest};
use tollgate_core::introspection::Introspection;
use tollgate_core::{AuthMethod, Client, Reason, User};
use tollgate_jose::jose;

use crate::support::people::{
    REDIRECT, SIGNED_IN, VERIFIER, alice, code, redeem, redeem_public, refresh, spa, web, world,
};
use crate::support::{API, ISSUER, NOW, ORDERS, Req, SECRET, client, granted, refused};

/// The `typ` of a JWS's header.
fn typ(token: &str) -> String {
    jose::peek(token).unwrap().raw_header["typ"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_code_becomes_a_persons_access_token_and_id_token() {
    let world = world();
    let sealed = code(&world, "web", "openid profile email api1", |_| {});
    let issued = granted("redeem", world.token(&redeem(&sealed)).await);
    let access = world.ports.decode(&issued.access_token);
    assert_eq!(typ(&issued.access_token), "at+jwt");
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["client_id"], "web");
    assert_eq!(access["scope"], "openid profile email api1");
    assert_eq!(access["aud"], API, "identity scopes add nothing to aud");
    assert_eq!(access["auth_time"], SIGNED_IN);
    let id_token = issued.id_token.expect("openid was granted");
    assert_eq!(typ(&id_token), "JWT", "an id token is not an access token");
    let id = world.ports.decode(&id_token);
    assert_eq!(id["iss"], ISSUER);
    assert_eq!(id["sub"], "alice");
    assert_eq!(id["aud"], "web");
    assert_eq!(id["iat"], NOW.unix_timestamp());
    assert_eq!(id["exp"], NOW.unix_timestamp() + 300);
    assert_eq!(id["auth_time"], SIGNED_IN);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(
        id["at_hash"],
        tollgate_core::id_token::at_hash(&issued.access_token)
    );
    assert_eq!(id["name"], "Alice Smith");
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert!(!id.contains_key("groups"), "groups was not granted");
    assert!(
        issued.refresh_token.is_none(),
        "offline_access was not granted"
    );
}

async fn without_openid_there_is_no_id_token_and_offline_access_gives_a_refresh_token() {
    let world = world();
    let sealed = code(&world, "web", "api1 offline_access", |_| {});
    let issued = granted("redeem", world.token(&redeem(&sealed)).await);
    assert!(issued.id_token.is_none());
    assert!(issued.refresh_token.is_some());
    // RFC 8707: the sign-in's resources narrow the API scopes only.
    let sealed = code(&world, "web", "openid api1 orders.read", |c| {
        c.resources = vec![ORDERS.into()];
    });
    let issued = granted("narrowed", world.token(&redeem(&sealed)).await);
    let access = world.ports.decode(&issued.access_token);
    assert_eq!(access["aud"], ORDERS);
    assert_eq!(access["scope"], "openid orders.read");
}

async fn a_public_client_sends_its_client_id_alone() {
    let world = world();
    let sealed = code(&world, "spa", "openid", |_| {});
    let issued = granted("public", world.token(&redeem_public(&sealed)).await);
    assert_eq!(issued.method, AuthMethod::None);
    assert_eq!(issued.client.id.as_str(), "spa");
    // A client_id alone that names no public client is the one
    // invalid_client, whatever the reason.
    let sealed = code(&world, "web", "openid", |_| {});
    let alone = |id: &str| {
        Req::form(&[
            ("grant_type", "authorization_code"),
            ("code", &sealed),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", id),
        ])
    };
    let cases = [
        ("confidential", "web", Reason::NoCredentials),
        ("unknown", "nobody", Reason::UnknownClient),
    ];
    for (case, id, reason) in cases {
        refused(case, world.token(&alone(id)).await, InvalidClient, reason);
    }
    let mut disabled = world;
    disabled.reload_people(
        vec![Client {
            enabled: false,
            ..spa()
        }],
        vec![alice()],
    );
    refused(
        "disabled",
        disabled.token(&alone("spa")).await,
        InvalidClient,
        Reason::DisabledClient,
    );
}

async fn a_code_that_does_not_hold_is_invalid_grant() {
    let world = world();
    let now = NOW.unix_timestamp();
    let with = |params: &[(&str, &str)]| Req::form(params).basic("web", SECRET);
    let good = code(&world, "web", "openid", |_| {});
    let cases: Vec<(&str, Req, Reason)> = vec![
        ("not ours", redeem("bm90IGEgY29kZQ"), Reason::InvalidCode),
        (
            "expired",
            redeem(&code(&world, "web", "openid", |c| c.exp = now)),
            Reason::CodeExpired,
        ),
        (
            "another client's",
            redeem(&code(&world, "spa", "openid", |_| {})),
            Reason::CodeClientMismatch,
        ),
        (
            "another redirect_uri",
            with(&[
                ("grant_type", "authorization_code"),
                ("code", &good),
                ("redirect_uri", "http://localhost:5002/other"),
                ("code_verifier", VERIFIER),
            ]),
            Reason::RedirectUriMismatch,
        ),
        (
            "no verifier",
            with(&[
                ("grant_type", "authorization_code"),
                ("code", &good),
                ("redirect_uri", REDIRECT),
            ]),
            Reason::PkceFailed,
        ),
        (
            "a wrong verifier",
            with(&[
                ("grant_type", "authorization_code"),
                ("code", &good),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &"a".repeat(43)),
            ]),
            Reason::PkceFailed,
        ),
        (
            "a person no longer in the file",
            redeem(&code(&world, "web", "openid", |c| c.sub = "carol".into())),
            Reason::PersonInactive,
        ),
    ];
    for (case, request, reason) in cases {
        refused(case, world.token(&request).await, InvalidGrant, reason);
    }
    refused(
        "no code",
        world
            .token(&with(&[("grant_type", "authorization_code")]))
            .await,
        InvalidRequest,
        Reason::MissingParameter,
    );
}

async fn a_person_disabled_revoked_or_not_admitted_after_sign_in_gets_no_tokens() {
    let mut world = world();
    let sealed = code(&world, "web", "openid", |_| {});
    let revoked_at = time::OffsetDateTime::from_unix_timestamp(SIGNED_IN + 1).unwrap();
    let cases: Vec<(&str, Vec<Client>, User, Reason)> = vec![
        (
            "disabled",
            vec![web()],
            User {
                enabled: false,
                ..alice()
            },
            Reason::PersonInactive,
        ),
        (
            "revoked since",
            vec![web()],
            User {
                tokens_valid_after: Some(revoked_at),
                ..alice()
            },
            Reason::PersonInactive,
        ),
        (
            "not in allowed_groups",
            vec![Client {
                allowed_groups: vec!["auditors".into()],
                ..web()
            }],
            alice(),
            Reason::PersonNotAdmitted,
        ),
    ];
    for (case, clients, user, reason) in cases {
        world.reload_people(clients, vec![user]);
        refused(
            case,
            world.token(&redeem(&sealed)).await,
            InvalidGrant,
            reason,
        );
    }
    // Refused before its single use: the code is still good.
    world.reload_people(vec![web()], vec![alice()]);
    granted("standing again", world.token(&redeem(&sealed)).await);
}

async fn a_replayed_code_is_refused_and_revokes_the_refresh_tokens_of_the_first_use() {
    let world = world();
    let sealed = code(&world, "web", "openid offline_access", |_| {});
    let first = granted("first", world.token(&redeem(&sealed)).await);
    refused(
        "again",
        world.token(&redeem(&sealed)).await,
        InvalidGrant,
        Reason::CodeReplayed,
    );
    let refresh_token = first.refresh_token.expect("offline_access");
    refused(
        "the first use's refresh token",
        world.token(&refresh(&refresh_token, None)).await,
        InvalidGrant,
        Reason::RefreshFamilyRevoked,
    );
}

async fn a_persons_access_token_stands_while_she_does() {
    let mut world = world();
    let sealed = code(&world, "web", "openid api1", |_| {});
    let issued = granted("redeem", world.token(&redeem(&sealed)).await);
    let ask = || Req::form(&[("token", issued.access_token.as_str())]).basic(API, SECRET);
    let Ok(Introspection::Active(claims)) = world.introspect(&ask()).await else {
        panic!("a person's token is active");
    };
    assert_eq!(claims["sub"], Value::from("alice"));
    world.reload_people(
        vec![web(), client("svc")],
        vec![User {
            enabled: false,
            ..alice()
        }],
    );
    assert_eq!(
        world.introspect(&ask()).await.unwrap(),
        Introspection::Inactive
    );
}

pub(crate) async fn all() {
    a_code_becomes_a_persons_access_token_and_id_token().await;
    without_openid_there_is_no_id_token_and_offline_access_gives_a_refresh_token().await;
    a_public_client_sends_its_client_id_alone().await;
    a_code_that_does_not_hold_is_invalid_grant().await;
    a_person_disabled_revoked_or_not_admitted_after_sign_in_gets_no_tokens().await;
    a_replayed_code_is_refused_and_revokes_the_refresh_tokens_of_the_first_use().await;
    a_persons_access_token_stands_while_she_does().await;
}

#[tokio::test]
async fn the_code_grant_cases() {
    all().await;
}
