//! The client_credentials grant (RFC 6749 §4.4): which scopes and APIs a
//! client gets, narrowed by resource indicators (RFC 8707), and what it
//! may not ask for.

use tollgate_core::{Client, ErrorCode, GrantType, Reason};

use crate::support::{API, BILLING, ORDERS, Req, SECRET, World, client, granted, refused, scopes};

/// A request's parameters besides the grant type.
type Params<'a> = &'a [(&'a str, &'a str)];

fn request(id: &str, params: &[(&str, &str)]) -> Req {
    let mut all = vec![("grant_type", "client_credentials")];
    all.extend_from_slice(params);
    Req::form(&all).basic(id, SECRET)
}

fn world() -> World {
    World::new(vec![
        client("svc"),
        Client {
            allowed_scopes: scopes(&[]),
            ..client("scopeless")
        },
        Client {
            grant_types: vec![GrantType::TokenExchange],
            ..client("exchanger")
        },
    ])
}

/// What is granted: (params, scope, audiences).
async fn granted_cases() {
    let world = world();
    let cases: [(&str, Params, &str, &[&str]); 6] = [
        (
            "no scope: every allowed one",
            &[],
            "api1 orders.read",
            &[API, ORDERS],
        ),
        (
            "one scope",
            &[("scope", "orders.read")],
            "orders.read",
            &[ORDERS],
        ),
        (
            "scopes in the order asked",
            &[("scope", "orders.read  api1 api1")],
            "orders.read api1",
            &[API, ORDERS],
        ),
        (
            "a resource",
            &[("resource", ORDERS)],
            "orders.read",
            &[ORDERS],
        ),
        (
            "two resources",
            &[("resource", ORDERS), ("resource", API)],
            "api1 orders.read",
            &[ORDERS, API],
        ),
        (
            "a resource and its scope",
            &[("resource", API), ("scope", "api1 orders.read")],
            "api1",
            &[API],
        ),
    ];
    for (case, params, scope, audiences) in cases {
        let issued = granted(case, world.token(&request("svc", params)).await);
        assert_eq!(issued.scope, scope, "{case}");
        assert_eq!(issued.audiences, audiences, "{case}");
        let claims = world.ports.decode(&issued.access_token);
        assert_eq!(claims["sub"], "svc", "{case}");
        assert_eq!(claims["scope"], scope, "{case}");
        assert_eq!(
            claims["exp"],
            crate::support::NOW.unix_timestamp() + 3600,
            "{case}"
        );
    }
}

async fn refused_cases() {
    let world = world();
    use ErrorCode::{InvalidScope, InvalidTarget, UnauthorizedClient};
    let cases: [(&str, &str, Params, ErrorCode, Reason); 9] = [
        (
            "a scope not allowed",
            "svc",
            &[("scope", "admin")],
            InvalidScope,
            Reason::ScopeNotAllowed,
        ),
        (
            "an unknown scope",
            "svc",
            &[("scope", "nope")],
            InvalidScope,
            Reason::UnknownScope,
        ),
        (
            "a malformed scope",
            "svc",
            &[("scope", "a\"b")],
            InvalidScope,
            Reason::InvalidScope,
        ),
        (
            "no scope at all",
            "scopeless",
            &[],
            InvalidScope,
            Reason::InvalidScope,
        ),
        (
            "a relative resource",
            "svc",
            &[("resource", "orders")],
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "an unknown resource",
            "svc",
            &[("resource", "https://nope.example")],
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "a resource out of reach",
            "svc",
            &[("resource", BILLING)],
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "a resource none of whose scopes is asked",
            "svc",
            &[("resource", API), ("scope", "orders.read")],
            InvalidTarget,
            Reason::InvalidTarget,
        ),
        (
            "a grant the client may not use",
            "exchanger",
            &[],
            UnauthorizedClient,
            Reason::UnauthorizedClient,
        ),
    ];
    for (case, id, params, code, reason) in cases {
        let outcome = world.token(&request(id, params)).await;
        let refusal = refused(case, outcome.map(|i| i.scope), code, reason);
        assert!(
            !refusal.takes_equal_time(),
            "{case}: not an authentication failure"
        );
    }
    // A fragment makes a URI no resource indicator (RFC 8707 §2).
    let fragment = format!("{API}#x");
    refused(
        "a resource with a fragment",
        world
            .token(&request("svc", &[("resource", &fragment)]))
            .await,
        InvalidTarget,
        Reason::InvalidTarget,
    );
}

pub(crate) async fn all() {
    granted_cases().await;
    refused_cases().await;
}

#[tokio::test]
async fn scopes_and_resources_granted() {
    granted_cases().await;
}

#[tokio::test]
async fn scopes_resources_and_grants_refused() {
    refused_cases().await;
}
