//! The refresh token grant at the real token endpoint: rotation, a reused
//! token revoking its family, a narrower scope, alice disabled in the
//! file (an edit the server reloads), and a public client's refresh token
//! bound to its DPoP key.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Dpop, code_for, eventually, jwt_parts, now, people_server, people_toml, redeem_form,
};

fn refresh(token: &str, scope: Option<&str>) -> String {
    let mut body = format!("grant_type=refresh_token&refresh_token={token}");
    if let Some(scope) = scope {
        body.push_str(&format!("&scope={}", crate::support::form(scope)));
    }
    body
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let server = people_server().await;
    let code = code_for("web", "alice", "openid profile api1 offline_access");
    let (_, first) = server.as_web(&redeem_form(&code, None)).await;
    let first = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, next) = server.as_web(&refresh(&first, Some("openid api1"))).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["scope"], "openid api1", "a narrower scope");
    let (_, id) = jwt_parts(next["id_token"].as_str().unwrap());
    assert!(id.get("nonce").is_none());
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let (status, wider) = server
        .as_web(&refresh(&second, Some("openid groups")))
        .await;
    assert_eq!(
        (status, &wider["error"]),
        (400, &Value::from("invalid_scope"))
    );
    let (status, reused) = server.as_web(&refresh(&first, None)).await;
    assert_eq!(
        (status, &reused["error"]),
        (400, &Value::from("invalid_grant"))
    );
    let (status, revoked) = server.as_web(&refresh(&second, None)).await;
    assert_eq!(
        (status, &revoked["error"]),
        (400, &Value::from("invalid_grant")),
        "the family of a reused token is revoked"
    );
}

/// A sign-in's rotations hold one entry of the replay store (its family's
/// turn), not one per refresh token: a person who refreshes every hour for
/// a month does not fill the store, or her client's quota. A token whose
/// turn has passed, however far back, is still a replay.
#[tokio::test]
async fn a_sign_ins_rotations_hold_one_replay_entry_however_many() {
    let server = people_server().await;
    let entries = || async {
        let health: Value = server.get_json("/healthz").await;
        health["replay"]["entries"].as_u64().unwrap()
    };
    let code = code_for("web", "alice", "openid api1 offline_access");
    let (_, issued) = server.as_web(&redeem_form(&code, None)).await;
    let first = issued["refresh_token"].as_str().unwrap().to_owned();
    let mut token = first.clone();
    let mut held = Vec::new();
    for _ in 0..20 {
        let (status, next) = server.as_web(&refresh(&token, None)).await;
        assert_eq!(status, 200, "{next}");
        token = next["refresh_token"].as_str().unwrap().to_owned();
        held.push(entries().await);
    }
    assert!(
        held.iter().all(|&n| n == held[0]),
        "entries held after each of 20 rotations: {held:?}"
    );
    // The first token, twenty turns back: a replay, and the family goes.
    let (status, reused) = server.as_web(&refresh(&first, None)).await;
    assert_eq!(
        (status, &reused["error"]),
        (400, &Value::from("invalid_grant"))
    );
    let (status, _) = server.as_web(&refresh(&token, None)).await;
    assert_eq!(status, 400, "the newest token went with its family");
}

#[tokio::test]
async fn a_person_disabled_in_the_file_can_no_longer_refresh() {
    let server = people_server().await;
    let code = code_for("web", "alice", "openid api1 offline_access");
    let (_, issued) = server.as_web(&redeem_form(&code, None)).await;
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let token = issued["refresh_token"].as_str().unwrap().to_owned();
    std::fs::write(
        server.dir.path().join("identity.toml"),
        people_toml("enabled = false", ""),
    )
    .unwrap();
    // Her access token goes inactive once the edit is in force.
    eventually(Duration::from_secs(10), "alice disabled", || async {
        (!server.active(&access).await).then_some(())
    })
    .await;
    let (status, body) = server.as_web(&refresh(&token, None)).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant"))
    );
}

#[tokio::test]
async fn a_public_clients_refresh_token_needs_a_proof_of_its_dpop_key() {
    let server = people_server().await;
    let key = Dpop::new();
    let endpoint = server.url("/connect/token");
    let post = |body: String, proof: Option<String>| {
        let mut request = server
            .http
            .post(&endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let iat = now().unix_timestamp();
    let code = code_for("spa", "alice", "openid offline_access");
    let (status, issued) = post(
        redeem_form(&code, Some("spa")),
        Some(key.proof("POST", &endpoint, iat, None)),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["token_type"], "DPoP");
    let token = issued["refresh_token"].as_str().unwrap();
    let body = || format!("{}&client_id=spa", refresh(token, None));
    let (status, refused) = post(body(), None).await;
    assert_eq!(
        (status, &refused["error"]),
        (400, &Value::from("invalid_grant"))
    );
    let other = Dpop::new().proof("POST", &endpoint, iat, None);
    let (status, _) = post(body(), Some(other)).await;
    assert_eq!(status, 400, "another key");
    let (status, next) = post(body(), Some(key.proof("POST", &endpoint, iat, None))).await;
    assert_eq!(status, 200, "{next}");
    let (_, access) = jwt_parts(next["access_token"].as_str().unwrap());
    assert_eq!(access["cnf"]["jkt"], key.jkt());
}
