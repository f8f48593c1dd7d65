//! The authorization endpoint (RFC 6749 §4.1 with PKCE, OpenID Connect
//! Core §3.1.2): which errors are a page and which go to the redirect URI
//! (with `state` and `iss`), the loopback and PKCE rules, then the
//! decision with the session: sign-in, `prompt`, `max_age`,
//! `allowed_groups`, consent, the sealed form and its CSRF binding, and a
//! session whose user no longer stands.

use std::collections::HashMap;

use tollgate_core::authorize::{self, Answer, Outcome, RedirectError};
use tollgate_core::code::CodeGrant;
use tollgate_core::sealed::Purpose;
use tollgate_core::session::SessionChange;
use tollgate_core::{Client, GrantType, Reason, User};

use crate::support::{API, ISSUER, ORDERS, World, client, reach, scopes, user};

pub(crate) const CB: &str = "https://app.example/cb";
const LOOPBACK: &str = "http://127.0.0.1/cb";
/// RFC 7636 Appendix B's challenge.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(crate) const CSRF: &str = "the-browsers-csrf-value";

/// A client of the code grant: public, two redirect URIs.
pub(crate) fn web() -> Client {
    Client {
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allowed_scopes: scopes(&["openid", "profile", "api1", "orders.read"]),
        redirect_uris: vec![CB.into(), LOOPBACK.into(), "http://[::1]/cb".into()],
        public: true,
        ..client("web")
    }
}

/// `web`, and the people: alice (admins), bob, and carol (disabled).
pub(crate) fn world_with(clients: Vec<Client>) -> World {
    let carol = User {
        enabled: false,
        ..user("carol", &[])
    };
    World::people(
        clients,
        vec![user("alice", &["admins"]), user("bob", &[]), carol],
    )
}

pub(crate) fn world() -> World {
    world_with(vec![
        web(),
        Client {
            redirect_uris: vec![CB.into()],
            ..client("machine")
        },
        Client {
            require_consent: true,
            ..web_as("asks")
        },
        Client {
            allowed_groups: vec!["admins".into()],
            ..web_as("admins-only")
        },
    ])
}

fn web_as(id: &str) -> Client {
    Client {
        id: id.parse().unwrap(),
        ..web()
    }
}

/// A valid request of `web`, with `patch` over it ("-" removes one).
pub(crate) fn query(patch: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", CB),
        ("scope", "openid api1"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in patch {
        params.retain(|(n, _)| n != name);
        if *value != "-" {
            params.push((name, value));
        }
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// The query parameters of a redirect.
pub(crate) fn params_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[track_caller]
pub(crate) fn page(case: &str, answer: &Answer, reason: Reason) {
    match answer {
        Answer::Page { reason: r, .. } => assert_eq!(*r, reason, "{case}"),
        other => panic!("{case}: expected a page, got {other:?}"),
    }
    reach(reason);
}

#[track_caller]
fn redirected(case: &str, answer: &Answer, error: RedirectError, reason: Reason, state: bool) {
    match answer {
        Answer::Error {
            location,
            error: e,
            reason: r,
            ..
        } => {
            assert_eq!((*e, *r), (error, reason), "{case}");
            let p = params_of(location);
            assert_eq!(p["error"], error.as_str(), "{case}");
            assert_eq!(p["iss"], ISSUER, "{case}: RFC 9207");
            assert_eq!(p.get("state").map(String::as_str), state.then_some("xyz"));
        }
        other => panic!("{case}: expected {error:?} at the redirect URI, got {other:?}"),
    }
    reach(reason);
}

pub(crate) fn start(world: &World, query: &str, cookie: Option<&str>) -> Outcome {
    authorize::start(&world.cx(), query.as_bytes(), cookie, CSRF)
}

/// The sealed request of a sign-in or consent page.
pub(crate) fn pending(answer: &Answer) -> String {
    match answer {
        Answer::SignIn(form) => form.pending.clone(),
        Answer::Consent(form) => form.pending.clone(),
        other => panic!("expected a form, got {other:?}"),
    }
}

pub(crate) async fn sign_in(world: &World, pending: &str, name: &str, password: &str) -> Outcome {
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("pending", pending),
            ("username", name),
            ("password", password),
        ])
        .finish();
    authorize::sign_in(&world.cx(), &world.ports, form.as_bytes(), Some(CSRF)).await
}

/// The session cookie an outcome sets.
pub(crate) fn cookie(outcome: &Outcome) -> String {
    match &outcome.session {
        SessionChange::Set(c) => c.clone(),
        other => panic!("expected a session, got {other:?}"),
    }
}

/// A session cookie of `name`, signed in at the world's now.
pub(crate) async fn signed_in(world: &World, name: &str) -> String {
    let first = start(world, &query(&[]), None);
    cookie(&sign_in(world, &pending(&first.answer), name, name).await)
}

/// The code an answer carries, opened.
#[track_caller]
fn code(world: &World, answer: &Answer) -> (CodeGrant, HashMap<String, String>) {
    let Answer::Code { location, .. } = answer else {
        panic!("expected a code, got {answer:?}");
    };
    let p = params_of(location);
    let grant = world
        .sealing
        .open(Purpose::Code, &p["code"])
        .expect("a sealed code");
    (grant, p)
}

async fn pages_and_redirects() {
    let world = world();
    let cases: [(&str, String, Reason); 5] = [
        (
            "unknown client",
            query(&[("client_id", "nobody")]),
            Reason::UnknownClient,
        ),
        (
            "no client",
            query(&[("client_id", "-")]),
            Reason::UnknownClient,
        ),
        (
            "redirect URI not registered",
            query(&[("redirect_uri", "https://evil.example/cb")]),
            Reason::RedirectUriMismatch,
        ),
        (
            "no redirect URI, two registered",
            query(&[("redirect_uri", "-")]),
            Reason::RedirectUriMismatch,
        ),
        (
            "client_id repeated",
            format!("{}&client_id=web", query(&[])),
            Reason::RepeatedParameter,
        ),
    ];
    for (case, q, reason) in cases {
        page(case, &start(&world, &q, None).answer, reason);
    }
    use RedirectError as E;
    let cases: [(&str, String, E, Reason, bool); 14] = [
        (
            "no response_type",
            query(&[("response_type", "-")]),
            E::InvalidRequest,
            Reason::MissingParameter,
            true,
        ),
        (
            "token",
            query(&[("response_type", "token")]),
            E::UnsupportedResponseType,
            Reason::UnsupportedResponseType,
            true,
        ),
        (
            "form_post",
            query(&[("response_mode", "form_post")]),
            E::InvalidRequest,
            Reason::InvalidParameter,
            true,
        ),
        (
            "no PKCE",
            query(&[("code_challenge", "-"), ("code_challenge_method", "-")]),
            E::InvalidRequest,
            Reason::PkceRequired,
            true,
        ),
        (
            "plain",
            query(&[("code_challenge_method", "plain")]),
            E::InvalidRequest,
            Reason::PkceRequired,
            true,
        ),
        (
            "a challenge without a method",
            query(&[("code_challenge_method", "-")]),
            E::InvalidRequest,
            Reason::PkceRequired,
            true,
        ),
        (
            "a short challenge",
            query(&[("code_challenge", "abc")]),
            E::InvalidRequest,
            Reason::PkceRequired,
            true,
        ),
        (
            "a scope not allowed",
            query(&[("scope", "openid admin")]),
            E::InvalidScope,
            Reason::ScopeNotAllowed,
            true,
        ),
        (
            "an unknown scope",
            query(&[("scope", "openid nosuch")]),
            E::InvalidScope,
            Reason::UnknownScope,
            true,
        ),
        (
            "an unknown resource",
            query(&[("resource", "https://nowhere.example")]),
            E::InvalidTarget,
            Reason::InvalidTarget,
            true,
        ),
        (
            "prompt none and login",
            query(&[("prompt", "none login")]),
            E::InvalidRequest,
            Reason::InvalidParameter,
            true,
        ),
        (
            "max_age not a number",
            query(&[("max_age", "soon")]),
            E::InvalidRequest,
            Reason::InvalidParameter,
            true,
        ),
        (
            "state repeated",
            format!("{}&state=again", query(&[])),
            E::InvalidRequest,
            Reason::RepeatedParameter,
            false,
        ),
        (
            "a client without the grant",
            query(&[("client_id", "machine")]),
            E::UnauthorizedClient,
            Reason::UnauthorizedClient,
            true,
        ),
    ];
    for (case, q, error, reason, state) in cases {
        redirected(case, &start(&world, &q, None).answer, error, reason, state);
    }
}

async fn loopback_and_defaults() {
    let world = world();
    for (case, q) in [
        (
            "loopback on another port",
            query(&[("redirect_uri", "http://127.0.0.1:53117/cb")]),
        ),
        (
            "loopback over IPv6",
            query(&[("redirect_uri", "http://[::1]:8080/cb")]),
        ),
    ] {
        let answer = start(&world, &q, None).answer;
        assert!(matches!(answer, Answer::SignIn(_)), "{case}: {answer:?}");
    }
    let asks_one = world_with(vec![Client {
        redirect_uris: vec![CB.into()],
        ..web()
    }]);
    let first = start(&asks_one, &query(&[("redirect_uri", "-")]), None);
    let done = sign_in(&asks_one, &pending(&first.answer), "alice", "alice").await;
    let (grant, _) = code(&asks_one, &done.answer);
    assert_eq!(grant.redirect_uri, CB, "RFC 6749 §3.1.2.3");
}

async fn a_code_after_sign_in() {
    let world = world();
    let q = query(&[
        ("scope", "openid api1 orders.read"),
        ("resource", API),
        ("nonce", "n-1"),
    ]);
    let first = start(&world, &q, None);
    let Answer::SignIn(form) = &first.answer else {
        panic!("{:?}", first.answer)
    };
    assert_eq!(form.redirect_origin, "https://app.example");
    let done = sign_in(&world, &form.pending, "alice", "alice").await;
    cookie(&done);
    let (grant, p) = code(&world, &done.answer);
    assert_eq!((p["state"].as_str(), p["iss"].as_str()), ("xyz", ISSUER));
    assert_eq!(grant.sub, "alice");
    assert_eq!(grant.client_id, "web");
    assert_eq!(grant.code_challenge, CHALLENGE);
    assert_eq!(
        grant.scope, "openid api1",
        "narrowed to the resource; openid kept"
    );
    assert_eq!(grant.resources, [API]);
    assert_eq!(grant.nonce.as_deref(), Some("n-1"));
    assert_eq!(grant.exp, world.now.unix_timestamp() + 60);
    assert_eq!(grant.claims, None);
    assert_eq!(grant.id.len(), 22, "128 bits, base64url");
    let narrowed = start(
        &world,
        &query(&[("resource", ORDERS), ("scope", "openid api1")]),
        None,
    );
    redirected(
        "no scope of the resource",
        &narrowed.answer,
        RedirectError::InvalidTarget,
        Reason::InvalidTarget,
        true,
    );
}

async fn the_session_decides() {
    let mut world = world();
    let alice = signed_in(&world, "alice").await;
    let again = start(&world, &query(&[]), Some(&alice));
    code(&world, &again.answer);
    assert_eq!(again.session, SessionChange::Keep);
    let none = start(&world, &query(&[("prompt", "none")]), None);
    redirected(
        "prompt=none, no session",
        &none.answer,
        RedirectError::LoginRequired,
        Reason::LoginRequired,
        true,
    );
    let login = start(&world, &query(&[("prompt", "login")]), Some(&alice));
    assert!(matches!(login.answer, Answer::SignIn(_)), "prompt=login");
    let fresh = sign_in(&world, &pending(&login.answer), "alice", "alice").await;
    code(&world, &fresh.answer);
    world.now += time::Duration::seconds(120);
    let aged = start(&world, &query(&[("max_age", "60")]), Some(&alice));
    assert!(matches!(aged.answer, Answer::SignIn(_)), "max_age past");
    code(
        &world,
        &start(&world, &query(&[("max_age", "600")]), Some(&alice)).answer,
    );
    let bob = signed_in(&world, "bob").await;
    let kept_out = start(&world, &query(&[("client_id", "admins-only")]), Some(&bob));
    assert!(
        matches!(kept_out.answer, Answer::NotAdmitted { .. }),
        "{:?}",
        kept_out.answer
    );
    reach(Reason::NotAdmitted);
    code(
        &world,
        &start(
            &world,
            &query(&[("client_id", "admins-only")]),
            Some(&alice),
        )
        .answer,
    );
    let forged = start(&world, &query(&[]), Some("not-a-session"));
    assert_eq!(forged.session, SessionChange::Clear);
    assert!(matches!(forged.answer, Answer::SignIn(_)));
}

async fn consent() {
    let world = world();
    let alice = signed_in(&world, "alice").await;
    let asks = query(&[("client_id", "asks")]);
    let first = start(&world, &asks, Some(&alice));
    let Answer::Consent(form) = &first.answer else {
        panic!("{:?}", first.answer)
    };
    assert_eq!(form.redirect_host, "app.example");
    assert_eq!(form.scopes, ["Your user identifier", "api1"]);
    let post = |decision: &str, cookie: &str| {
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("pending", pending(&first.answer).as_str()),
                ("decision", decision),
            ])
            .finish();
        authorize::consent(&world.cx(), form.as_bytes(), Some(cookie), Some(CSRF))
    };
    let denied = post("deny", &alice);
    redirected(
        "deny",
        &denied.answer,
        RedirectError::AccessDenied,
        Reason::AccessDenied,
        true,
    );
    let allowed = post("allow", &alice);
    code(&world, &allowed.answer);
    let remembered = crate::authorize::cookie(&allowed);
    code(&world, &start(&world, &asks, Some(&remembered)).answer);
    let wider = query(&[("client_id", "asks"), ("scope", "openid profile")]);
    assert!(matches!(
        start(&world, &wider, Some(&remembered)).answer,
        Answer::Consent(_)
    ));
    let none = start(&world, &format!("{asks}&prompt=none"), Some(&alice));
    redirected(
        "prompt=none, no consent",
        &none.answer,
        RedirectError::ConsentRequired,
        Reason::ConsentRequired,
        true,
    );
    let asked_again = start(&world, &query(&[("prompt", "consent")]), Some(&remembered));
    assert!(
        matches!(asked_again.answer, Answer::Consent(_)),
        "prompt=consent"
    );
}

pub(crate) async fn all() {
    pages_and_redirects().await;
    loopback_and_defaults().await;
    a_code_after_sign_in().await;
    the_session_decides().await;
    consent().await;
}

#[tokio::test]
async fn unknown_clients_and_redirect_uris_get_a_page_and_every_other_error_the_redirect_uri() {
    pages_and_redirects().await;
}

#[tokio::test]
async fn loopback_redirect_uris_match_on_any_port_and_a_lone_registered_one_is_the_default() {
    loopback_and_defaults().await;
}

#[tokio::test]
async fn a_signed_in_person_gets_a_sealed_code_with_state_and_iss() {
    a_code_after_sign_in().await;
}

#[tokio::test]
async fn prompt_max_age_and_allowed_groups_decide_with_the_session() {
    the_session_decides().await;
}

#[tokio::test]
async fn consent_is_asked_remembered_per_session_and_denial_is_access_denied() {
    consent().await;
}
