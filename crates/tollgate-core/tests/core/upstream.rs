//! Sign-in through an upstream provider around the authorization request:
//! the "Sign in with …" departure (the sealed request, bound to the
//! browser, for a provider the client takes), and the arrival of a
//! verified id token's claims: admitted, a session for `corp|<sub>` whose
//! code carries her claims; refused by the provider's rule, a page naming
//! the rule and no code; a provider removed from the file signs its
//! people out.

use serde_json::{Value, json};
use tollgate_core::authorize::{Answer, upstream};
use tollgate_core::session::SessionChange;
use tollgate_core::upstream::Provider;
use tollgate_core::{Client, Login, Reason};

use crate::authorize::{CB, CSRF, pending, query, start, web, world_with};
use crate::support::{World, reach};

fn corp() -> Provider {
    Provider {
        name: "corp".parse().unwrap(),
        display_name: Some("Corp SSO".into()),
        issuer: "https://login.corp.example".into(),
        client_id: "tollgate".into(),
        scopes: vec!["openid".into()],
        allowed_email_domains: vec!["corp.example".into()],
        claims: Vec::new(),
        groups_claim: Some("groups".into()),
    }
}

fn world(clients: Vec<Client>) -> World {
    let mut world = world_with(Vec::new());
    let login = Login {
        providers: vec![std::sync::Arc::new(corp())],
        ..Login::default()
    };
    world.reload_login(clients, Vec::new(), login);
    world
}

fn alice() -> Value {
    json!({"sub": "00u1", "name": "Alice", "email": "alice@corp.example",
           "email_verified": true, "groups": ["admins"]})
}

/// The sealed request of a fresh sign-in page of `web`.
fn first(world: &World) -> String {
    pending(&start(world, &query(&[("scope", "openid profile")]), None).answer)
}

async fn departures() {
    let world = world(vec![web()]);
    let blob = first(&world);
    let cx = world.cx();
    let left = upstream::departure(&cx, "corp", Some(&blob), Some(CSRF)).unwrap();
    assert_eq!(left.provider.name.as_str(), "corp");
    assert_eq!(left.csrf, CSRF);
    assert_eq!(upstream::offered_providers(cx.registry, "web").len(), 1);
    // Another browser's form, or an unknown provider: a page.
    let foreign = upstream::departure(&cx, "corp", Some(&blob), Some("other")).unwrap_err();
    assert!(matches!(
        foreign,
        Answer::Page {
            reason: Reason::CsrfMismatch,
            ..
        }
    ));
    let unknown = upstream::departure(&cx, "okta", Some(&blob), Some(CSRF)).unwrap_err();
    assert!(matches!(unknown, Answer::Page { status: 404, .. }));
    // A client restricted to no provider offers none.
    let closed = world_restricted();
    let blob = first(&closed);
    let cx = closed.cx();
    assert!(upstream::offered_providers(cx.registry, "web").is_empty());
    assert!(upstream::departure(&cx, "corp", Some(&blob), Some(CSRF)).is_err());
}

fn world_restricted() -> World {
    world(vec![Client {
        login_providers: Some(Vec::new()),
        ..web()
    }])
}

async fn arrivals() {
    let mut world = world(vec![web()]);
    let blob = first(&world);
    let cx = world.cx();
    let outcome = upstream::arrival(&cx, "corp", &blob, CSRF, &alice()).unwrap();
    let Answer::Code { location, sub, .. } = &outcome.answer else {
        panic!("expected a code, got {:?}", outcome.answer);
    };
    assert_eq!(sub, "corp|00u1");
    assert!(location.starts_with(CB));
    let code = crate::authorize::params_of(location)["code"].clone();
    let grant: tollgate_core::code::CodeGrant = world
        .sealing
        .open(tollgate_core::sealed::Purpose::Code, &code)
        .unwrap();
    assert_eq!(grant.sub, "corp|00u1");
    let claims = Value::Object(grant.claims.expect("her claims copied"));
    assert_eq!(claims["email"], "alice@corp.example");
    assert_eq!(claims["groups"], json!(["admins"]));
    // Her session stands on its own: the next request needs no sign-in.
    let SessionChange::Set(session) = &outcome.session else {
        panic!("expected a session");
    };
    let again = start(&world, &query(&[]), Some(session));
    assert!(
        matches!(again.answer, Answer::Code { .. }),
        "{:?}",
        again.answer
    );

    // Another domain: a page naming the rule, not her email; no session.
    let mut bob = alice();
    bob["email"] = json!("bob@other.example");
    let refused = upstream::arrival(&cx, "corp", &first(&world), CSRF, &bob).unwrap_err();
    assert!(refused.reason.contains("other.example"));
    let Answer::Page {
        status,
        reason,
        message,
    } = &refused.outcome.answer
    else {
        panic!("expected a page");
    };
    assert_eq!((*status, *reason), (403, Reason::ProviderRefused));
    assert!(message.contains("allowed_email_domains"), "{message}");
    assert!(!message.contains("other.example"), "{message}");
    assert_eq!(refused.outcome.session, SessionChange::Keep);
    reach(Reason::ProviderRefused);

    // The provider removed from the file: her session no longer stands.
    let session = session.clone();
    world.reload_login(vec![web()], Vec::new(), Login::default());
    let after = start(&world, &query(&[]), Some(&session));
    assert_eq!(after.session, SessionChange::Clear);
    assert!(matches!(after.answer, Answer::SignIn(_)));
}

pub(crate) async fn all() {
    departures().await;
    arrivals().await;
}

#[tokio::test]
async fn a_sign_in_leaves_for_a_provider_with_the_browsers_sealed_request_and_the_clients_consent()
{
    departures().await;
}

#[tokio::test]
async fn a_provider_admits_a_person_as_provider_bar_sub_with_her_claims_or_refuses_with_a_page() {
    arrivals().await;
}
