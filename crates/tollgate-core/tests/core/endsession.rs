//! RP-Initiated Logout: the browser goes back only to a URI the client
//! registered, for the client `client_id` or the id token hint names;
//! anything else shows the signed-out page.

use serde_json::{Map, Value, json};
use tollgate_core::Client;
use tollgate_core::endsession::EndSession;

use crate::authorize::{web, world_with};
use crate::support::{ISSUER, client};

/// The verified claims of an id token hint, if any.
type Hint = Option<Map<String, Value>>;

const BACK: &str = "https://app.example/";

fn hint(aud: Value, iss: &str) -> Map<String, Value> {
    json!({"iss": iss, "aud": aud, "sub": "alice"})
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn end_session_redirects_only_to_a_registered_uri_of_the_client_it_names() {
    let world = world_with(vec![
        Client {
            post_logout_redirect_uris: vec![BACK.into()],
            ..web()
        },
        client("other"),
    ]);
    let cx = world.cx();
    let back = form_urlencoded::byte_serialize(BACK.as_bytes()).collect::<String>();
    let ours = hint(json!("web"), ISSUER);
    let cases: [(&str, String, Hint, Option<&str>); 8] = [
        (
            "client_id",
            format!("client_id=web&post_logout_redirect_uri={back}&state=s"),
            None,
            Some("https://app.example/?state=s"),
        ),
        (
            "the hint's aud",
            format!("id_token_hint=h&post_logout_redirect_uri={back}"),
            Some(ours.clone()),
            Some(BACK),
        ),
        (
            "a list of one aud",
            format!("id_token_hint=h&post_logout_redirect_uri={back}"),
            Some(hint(json!(["web"]), ISSUER)),
            Some(BACK),
        ),
        (
            "not registered",
            "client_id=web&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F".into(),
            None,
            None,
        ),
        (
            "another client's",
            format!("client_id=other&post_logout_redirect_uri={back}"),
            None,
            None,
        ),
        (
            "no client",
            format!("post_logout_redirect_uri={back}"),
            None,
            None,
        ),
        (
            "a hint that is not ours",
            format!("id_token_hint=h&post_logout_redirect_uri={back}"),
            None,
            None,
        ),
        (
            "a hint and client_id apart",
            format!("id_token_hint=h&client_id=other&post_logout_redirect_uri={back}"),
            Some(ours.clone()),
            None,
        ),
    ];
    for (case, query, claims, expected) in cases {
        let request = EndSession::parse(query.as_bytes()).unwrap();
        let found = request.redirect(&cx, claims.as_ref());
        assert_eq!(found.as_deref(), expected, "{case}");
    }
    let other_issuer = hint(json!("web"), "https://elsewhere.example");
    let request =
        EndSession::parse(format!("id_token_hint=h&post_logout_redirect_uri={back}").as_bytes())
            .unwrap();
    assert_eq!(
        request.redirect(&cx, Some(&other_issuer)),
        None,
        "another issuer's token"
    );
    assert!(EndSession::parse(b"state=a&state=b").is_err(), "repeated");
}
