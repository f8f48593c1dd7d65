//! The id a refused token request claimed, which the audit trail keeps
//! beside the reason: the credentials' client id (an assertion's
//! `client_id`, else its `iss`), or none when the request named none.

use serde_json::json;
use tollgate_core::{JWT_BEARER_GRANT, KeySource};

use crate::private_key_jwt::{claims, keyed, with_assertion};
use crate::support::jws::set;
use crate::support::{Key, Req, SECRET, World, client};

const CC: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn a_refusal_keeps_the_id_the_request_claimed() {
    let key = Key::new(Some("k1"));
    let world = World::new(vec![
        client("svc"),
        keyed("signer", KeySource::Static(set(&[&key]))),
    ]);
    let stranger = Key::new(Some("k1"));
    let platform = key.sign(&json!({"iss": "https://k8s.example", "sub": "x", "exp": 1}));
    let cases: Vec<(&str, Req, Option<&str>)> = vec![
        (
            "a wrong secret",
            Req::form(&[CC]).basic("svc", "wrong"),
            Some("svc"),
        ),
        (
            "an unknown client",
            Req::form(&[CC, ("client_id", "nobody"), ("client_secret", "x")]),
            Some("nobody"),
        ),
        (
            "a scope not allowed",
            Req::form(&[CC, ("scope", "admin")]).basic("svc", SECRET),
            Some("svc"),
        ),
        (
            "an assertion's iss",
            with_assertion(&stranger.sign(&claims("signer", json!({}))), None),
            Some("signer"),
        ),
        (
            "an assertion's client_id",
            with_assertion(&stranger.sign(&claims("signer", json!({}))), Some("other")),
            Some("other"),
        ),
        (
            "a certificate's client_id",
            Req::form(&[CC, ("client_id", "svc")])
                .certificate(crate::support::certs::Cert::self_signed("svc").chain()),
            Some("svc"),
        ),
        (
            "a platform token's iss",
            Req::form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &platform)]),
            Some("https://k8s.example"),
        ),
        ("no credentials", Req::form(&[CC]), None),
        ("no grant_type", Req::form(&[]).basic("svc", SECRET), None),
    ];
    for (case, request, claimed) in cases {
        let refused = world.token(&request).await.expect_err(case);
        assert_eq!(
            refused.claimed_id.as_deref(),
            claimed,
            "{case}: {refused:?}"
        );
    }
}
