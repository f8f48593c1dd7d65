//! The authorization code grant at the real token endpoint: a code sealed
//! as the authorization endpoint seals it, redeemed once by a confidential
//! client (its secret) or a public one (`client_id` alone); the access
//! token, the id token and the refresh token it gives; a replay refused
//! and the first use's refresh token revoked; across two replicas sharing
//! Redis, a code redeemed on one is refused on the other.

use serde_json::Value;

use crate::support::{
    Redis, TestServer, basic, code_for, jwt_parts, people_dir, people_server, people_toml,
    redeem_form,
};

#[tokio::test]
async fn a_code_gives_a_persons_access_token_id_token_and_refresh_token_once() {
    let server = people_server().await;
    let code = code_for("web", "alice", "openid profile email api1 offline_access");
    let (status, body) = server.as_web(&redeem_form(&code, None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile email api1 offline_access");
    let (header, access) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["client_id"], "web");
    assert_eq!(access["aud"], crate::support::API);
    assert!(access["auth_time"].is_i64());
    let (header, id) = jwt_parts(body["id_token"].as_str().expect("openid"));
    assert_eq!(header["typ"], "JWT");
    assert_eq!(id["iss"], server.issuer());
    assert_eq!(
        (&id["sub"], &id["aud"]),
        (&Value::from("alice"), &Value::from("web"))
    );
    assert_eq!(id["nonce"], "n-42");
    assert_eq!(id["name"], "Alice Smith");
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(
        id["at_hash"],
        tollgate_core::id_token::at_hash(body["access_token"].as_str().unwrap())
    );
    let refresh = body["refresh_token"].as_str().expect("offline_access");
    assert!(server.active(body["access_token"].as_str().unwrap()).await);

    let (status, again) = server.as_web(&redeem_form(&code, None)).await;
    assert_eq!(
        (status, &again["error"]),
        (400, &Value::from("invalid_grant"))
    );
    let (status, refused) = server
        .as_web(&format!("grant_type=refresh_token&refresh_token={refresh}"))
        .await;
    assert_eq!(
        (status, &refused["error"]),
        (400, &Value::from("invalid_grant")),
        "a replayed code revokes the refresh tokens of its first use"
    );
}

#[tokio::test]
async fn a_public_client_redeems_with_its_client_id_alone_and_a_confidential_one_cannot() {
    let server = people_server().await;
    let code = code_for("spa", "alice", "openid");
    let (status, body) = server
        .post_form("/connect/token", &redeem_form(&code, Some("spa")), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    assert!(body.get("refresh_token").is_none(), "no offline_access");
    // web's id alone fails as any authentication does: one body.
    let code = code_for("web", "alice", "openid");
    let (status, alone) = server
        .post_form("/connect/token", &redeem_form(&code, Some("web")), None)
        .await;
    assert_eq!(status, 401);
    let (_, wrong) = server
        .post_form(
            "/connect/token",
            &redeem_form(&code, None),
            Some(&basic("web", "wrong")),
        )
        .await;
    assert_eq!(alone, wrong, "the one invalid_client body");
    // A wrong verifier, a code of bob's that names another client.
    let (status, body) = server
        .as_web(&redeem_form(&code, None).replace("code_verifier=d", "code_verifier=e"))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant"))
    );
    let (status, body) = server
        .as_web(&redeem_form(&code_for("spa", "bob", "openid"), None))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant"))
    );
}

#[tokio::test]
async fn without_openid_no_id_token_is_issued() {
    let server = people_server().await;
    let code = code_for("web", "bob", "api1");
    let (status, body) = server.as_web(&redeem_form(&code, None)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none());
    assert_eq!(
        jwt_parts(body["access_token"].as_str().unwrap()).1["sub"],
        "bob"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_redeem_a_code_once_and_revoke_a_reused_refresh_tokens_family() {
    let Some(redis) = Redis::start(&[]).await else {
        return;
    };
    let toml = people_toml(
        "",
        &format!("[replay]\nstore = \"redis://127.0.0.1:{}\"\n", redis.port),
    );
    let a = TestServer::spawn_in(people_dir(&toml)).await;
    let b = TestServer::spawn_in(people_dir(&toml)).await;
    let code = code_for("web", "alice", "openid offline_access");
    let (status, first) = a.as_web(&redeem_form(&code, None)).await;
    assert_eq!(status, 200, "{first}");
    let (status, body) = b.as_web(&redeem_form(&code, None)).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant")),
        "redeemed at the other replica"
    );
    // A fresh sign-in: rotated on a, the used one presented to b.
    let code = code_for("web", "alice", "openid offline_access");
    let (_, issued) = a.as_web(&redeem_form(&code, None)).await;
    let used = issued["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: &str| format!("grant_type=refresh_token&refresh_token={token}");
    let (status, rotated) = a.as_web(&refresh(&used)).await;
    assert_eq!(status, 200, "{rotated}");
    let newest = rotated["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = b.as_web(&refresh(&used)).await;
    assert_eq!(status, 400, "reused at the other replica");
    for (replica, name) in [(&a, "a"), (&b, "b")] {
        let (status, body) = replica.as_web(&refresh(&newest)).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &Value::from("invalid_grant")),
            "the family is revoked at {name}"
        );
    }
}

/// A confidential client's id alone, an unknown id alone and a wrong
/// secret are the same failure: the same Argon2 work, the same floor.
#[tokio::test]
async fn a_client_id_alone_fails_in_the_time_of_a_wrong_secret() {
    let throttle = "[throttle]\nclient_failures = 0\naddress_failures = 0\n";
    let server = TestServer::spawn_in(people_dir(&people_toml("", throttle))).await;
    let code = code_for("web", "alice", "openid");
    let post = |id: &'static str, auth: Option<String>| {
        let body = redeem_form(&code, (id != "web-wrong").then_some(id));
        let server = &server;
        async move {
            server
                .post_form("/connect/token", &body, auth.as_deref())
                .await
                .0
        }
    };
    let kinds = ["web-wrong", "web", "nobody"];
    let mut times = vec![Vec::new(); kinds.len()];
    // Interleaved, so that a slow moment of the machine hits every kind.
    for _ in 0..9 {
        for (i, kind) in kinds.iter().enumerate() {
            let auth = (*kind == "web-wrong").then(|| basic("web", "wrong"));
            let started = std::time::Instant::now();
            assert_eq!(post(kind, auth).await, 401, "{kind}");
            times[i].push(started.elapsed());
        }
    }
    let spread = crate::support::spread_within_rounds(&times);
    println!("wrong secret, web's id alone, unknown id alone: spread {spread:.2}, {times:?}");
    assert!(
        spread <= 1.25,
        "slowest to fastest within a round, median over rounds: {spread:.2} \
         (wrong secret, web's id alone, unknown id alone: {times:?})"
    );
}
