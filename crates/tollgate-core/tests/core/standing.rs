//! A token stands only while every client it stands on does: its
//! client, its subject (or, for a trusted issuer's subject, that issuer)
//! and each of our actors of its `act` chain. After a reload without
//! one, token exchange refuses the token with the reason and
//! introspection calls it inactive: one rule for both.

use serde_json::{Value, json};
use tollgate_core::exchange::ACCESS_TOKEN_TYPE;
use tollgate_core::introspection::Introspection;
use tollgate_core::{Client, ErrorCode, Reason, TrustedIssuer};

use crate::support::subjects::{IDP, chain, clients, exchange, idp, own};
use crate::support::{API, Key, NOW, Req, SECRET, World, granted, refused};

/// An edit of the file: the clients and trusted issuers after it.
type Edit = fn(&mut Vec<Client>, &mut Vec<TrustedIssuer>);

fn without(clients: &mut Vec<Client>, id: &str) {
    clients.retain(|c| c.id.as_str() != id);
}

fn edit_client(clients: &mut [Client], id: &str, change: impl Fn(&mut Client)) {
    clients
        .iter_mut()
        .filter(|c| c.id.as_str() == id)
        .for_each(change);
}

async fn standing_cases() {
    let key = Key::new(Some("idp-1"));
    let mut world = crate::support::subjects::world(&key);
    let actors = json!({"act": chain(&["a1", "a2"])});
    let foreign_subject = json!({"sub": "alice",
        "sub_id": {"format": "iss_sub", "iss": IDP, "sub": "alice"}});
    let foreign_actors = json!({"act": {"sub": "a1", "act": {"sub": "gateway", "iss": IDP}}});
    let nine: Vec<String> = (1..=9).map(|i| format!("a{i}")).collect();
    let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
    use Reason::*;
    let cases: Vec<(&str, Value, Edit, Option<Reason>)> = vec![
        ("nothing changed", actors.clone(), |_, _| {}, None),
        (
            "its client removed",
            json!({"client_id": "a3"}),
            |c, _| without(c, "a3"),
            Some(SubjectClientInactive),
        ),
        (
            "its subject removed",
            json!({"client_id": "a3"}),
            |c, _| without(c, "caller"),
            Some(SubjectClientInactive),
        ),
        (
            "its subject disabled",
            json!({"client_id": "a3"}),
            |c, _| edit_client(c, "caller", |c| c.enabled = false),
            Some(SubjectClientInactive),
        ),
        (
            "an actor removed",
            actors.clone(),
            |c, _| without(c, "a2"),
            Some(SubjectClientInactive),
        ),
        (
            "an actor disabled",
            actors.clone(),
            |c, _| edit_client(c, "a1", |c| c.enabled = false),
            Some(SubjectClientInactive),
        ),
        (
            "its client revoked",
            json!({}),
            |c, _| edit_client(c, "caller", |c| c.tokens_valid_after = Some(NOW)),
            Some(SubjectTokenRevoked),
        ),
        (
            "an actor revoked",
            actors.clone(),
            |c, _| edit_client(c, "a2", |c| c.tokens_valid_after = Some(NOW)),
            Some(SubjectTokenRevoked),
        ),
        (
            "revoked before it was issued",
            actors.clone(),
            |c, _| {
                edit_client(c, "a2", |c| {
                    c.tokens_valid_after = Some(NOW - time::Duration::minutes(2))
                })
            },
            None,
        ),
        (
            "a trusted subject",
            foreign_subject.clone(),
            |_, _| {},
            None,
        ),
        (
            "a trusted subject's issuer removed",
            foreign_subject,
            |_, i| i.clear(),
            Some(SubjectClientInactive),
        ),
        (
            "the IdP's actors are not ours",
            foreign_actors.clone(),
            |_, _| {},
            None,
        ),
        (
            "our actor before them removed",
            foreign_actors,
            |c, _| without(c, "a1"),
            Some(SubjectClientInactive),
        ),
        (
            "nine actors",
            json!({"act": chain(&nine)}),
            |_, _| {},
            Some(ActChainTooDeep),
        ),
    ];
    for (case, patch, edit, expected) in cases {
        world.reload(clients(), vec![idp(&key)]);
        let token = own(&world, patch);
        let (mut edited, mut issuers) = (clients(), vec![idp(&key)]);
        edit(&mut edited, &mut issuers);
        world.reload(edited, issuers);
        let exchanged = world
            .token(&exchange("exchanger", &token, ACCESS_TOKEN_TYPE, &[]))
            .await;
        let introspected = introspect(&world, &token).await;
        match expected {
            None => {
                granted(case, exchanged);
                assert!(matches!(introspected, Introspection::Active(_)), "{case}");
            }
            Some(reason) => {
                refused(case, exchanged, ErrorCode::InvalidGrant, reason);
                assert_eq!(introspected, Introspection::Inactive, "{case}");
            }
        }
    }
}

async fn introspect(world: &World, token: &str) -> Introspection {
    let request = Req::form(&[("token", token)]).basic(API, SECRET);
    world
        .introspect(&request)
        .await
        .expect("the resource authenticates")
}

pub(crate) async fn all() {
    standing_cases().await;
}

#[tokio::test]
async fn a_token_stands_on_its_client_subject_and_actors() {
    standing_cases().await;
}
