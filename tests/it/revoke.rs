//! `POST /connect/revoke` (RFC 7009): the client authenticates as at the
//! token endpoint; a refresh token's family and an access token are
//! revoked; an unknown token or another client's is answered 200 and
//! nothing changes.

use serde_json::Value;

use crate::support::{TestServer, basic, code_for, form, people_server, redeem_form};

async fn revoke(server: &TestServer, token: &str, authorization: Option<&str>) -> (u16, Value) {
    server
        .post_form(
            "/connect/revoke",
            &format!("token={}", form(token)),
            authorization,
        )
        .await
}

async fn signed_in(server: &TestServer) -> (String, String) {
    let code = code_for("web", "alice", "openid api1 offline_access");
    let (status, body) = server.as_web(&redeem_form(&code, None)).await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn revoking_an_access_token_makes_it_inactive_and_a_refresh_token_its_family() {
    let server = people_server().await;
    let web = basic("web", "secret");
    let (access, refresh) = signed_in(&server).await;
    assert!(server.active(&access).await);
    assert_eq!(revoke(&server, &access, Some(&web)).await.0, 200);
    assert!(!server.active(&access).await, "revoked until it expires");
    assert_eq!(revoke(&server, &refresh, Some(&web)).await.0, 200);
    let (status, body) = server
        .as_web(&format!("grant_type=refresh_token&refresh_token={refresh}"))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant"))
    );
}

#[tokio::test]
async fn an_unknown_token_or_another_clients_is_answered_200_and_nothing_changes() {
    let server = people_server().await;
    let web = basic("web", "secret");
    assert_eq!(revoke(&server, "not-a-token", Some(&web)).await.0, 200);
    // spa's token, named by web: still active.
    let code = code_for("spa", "alice", "api1");
    let (_, body) = server
        .post_form("/connect/token", &redeem_form(&code, Some("spa")), None)
        .await;
    let theirs = body["access_token"].as_str().unwrap();
    assert_eq!(revoke(&server, theirs, Some(&web)).await.0, 200);
    assert!(server.active(theirs).await);
    // A public client revokes its own with its client_id alone.
    let (status, _) = server
        .post_form(
            "/connect/revoke",
            &format!("token={}&client_id=spa", form(theirs)),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(!server.active(theirs).await);
    let (status, body) = revoke(&server, theirs, Some(&basic("web", "wrong"))).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &Value::from("invalid_client"))
    );
}
