//! The subjects of token exchange: the clients that exchange (and
//! those whose tokens they exchange), a trusted IdP, our own tokens and
//! the IdP's with any claims, `act` chains, and exchange requests.

use std::time::Duration;

use serde_json::{Value, json};
use tollgate_core::{
    Client, ExchangeRule, GrantType, KeySource, SubjectIssuer, ThrottleSettings, TrustedIssuer,
};

use super::jws::set;
use super::{API, BILLING, ISSUER, Key, NOW, ORDERS, Req, SECRET, World, client, patched};

pub(crate) const IDP: &str = "https://idp.example";
pub(crate) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

fn exchanging(id: &str, rules: Vec<ExchangeRule>) -> Client {
    Client {
        grant_types: vec![GrantType::TokenExchange],
        token_exchange: rules,
        ..client(id)
    }
}

fn rule(issuer: SubjectIssuer, audience: &str, resources: &[&str]) -> ExchangeRule {
    ExchangeRule {
        subject_issuer: issuer,
        subject_audience: audience.into(),
        resources: resources.iter().map(|r| r.to_string()).collect(),
    }
}

/// The clients of every exchange case: `caller` (whose tokens are the
/// subjects), `exchanger` (ours for API, the IdP's for itself, both to
/// ORDERS), actors `a1`..`a9`, and two misconfigured exchangers.
pub(crate) fn clients() -> Vec<Client> {
    let mut clients = vec![
        client("caller"),
        exchanging(
            "exchanger",
            vec![
                rule(SubjectIssuer::Own, API, &[ORDERS]),
                rule(SubjectIssuer::Trusted("idp".into()), "exchanger", &[ORDERS]),
            ],
        ),
        exchanging("picky", vec![rule(SubjectIssuer::Own, API, &[BILLING])]),
        exchanging(
            "nowhere",
            vec![rule(SubjectIssuer::Own, API, &["https://gone.example"])],
        ),
    ];
    clients.extend((1..=9).map(|i| client(&format!("a{i}"))));
    clients
}

pub(crate) fn idp(key: &Key) -> TrustedIssuer {
    TrustedIssuer {
        name: "idp".into(),
        issuer: IDP.into(),
        keys: KeySource::Static(set(&[key])),
        audience: None,
        max_token_lifetime: Duration::from_secs(3600),
        fingerprint: [7; 32],
    }
}

pub(crate) fn world(idp_key: &Key) -> World {
    World::with(clients(), vec![idp(idp_key)], ThrottleSettings::default())
}

/// One of our tokens, `caller`'s for API, `patch` over it.
pub(crate) fn own(world: &World, patch: Value) -> String {
    let now = NOW.unix_timestamp();
    let claims = json!({"iss": ISSUER, "sub": "caller", "client_id": "caller", "aud": API,
        "scope": "api1", "iat": now - 60, "nbf": now - 60, "exp": now + 600, "jti": "subject"});
    world.ports.own_token(&patched(claims, patch))
}

/// The IdP's token for `alice`, issued to `exchanger`, `patch` over it.
pub(crate) fn foreign(key: &Key, patch: Value) -> String {
    let now = NOW.unix_timestamp();
    let claims = json!({"iss": IDP, "sub": "alice", "aud": "exchanger", "iat": now - 60,
        "exp": now + 600});
    key.sign(&patched(claims, patch))
}

/// An `act` chain of these actors, the first outermost.
pub(crate) fn chain(actors: &[&str]) -> Value {
    actors
        .iter()
        .rev()
        .fold(Value::Null, |inner, sub| match inner {
            Value::Null => json!({"sub": sub}),
            inner => json!({"sub": sub, "act": inner}),
        })
}

/// An exchange of `subject` by `id`, with `extra` parameters.
pub(crate) fn exchange(id: &str, subject: &str, kind: &str, extra: &[(&str, &str)]) -> Req {
    let mut params = vec![
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", kind),
    ];
    params.extend_from_slice(extra);
    Req::form(&params).basic(id, SECRET)
}
