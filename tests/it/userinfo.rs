//! `GET|POST /connect/userinfo`: a person's token with `openid` (Bearer,
//! or DPoP with a proof of its key) gets her claims as the file says now;
//! anything else gets RFC 6750's challenge.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Dpop, TestServer, code_for, now, people_server, redeem_form};

/// The status, the `WWW-Authenticate` header and the body.
async fn ask(
    server: &TestServer,
    method: Method,
    authorization: &str,
    proof: Option<String>,
) -> (u16, String, Value) {
    let mut request = server
        .http
        .request(method, server.url("/connect/userinfo"))
        .header("Authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let r = request.send().await.unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), challenge, r.json().await.unwrap())
}

async fn token(server: &TestServer, sub: &str, scope: &str) -> String {
    let (status, body) = server
        .as_web(&redeem_form(&code_for("web", sub, scope), None))
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn userinfo_answers_a_persons_claims_for_her_granted_scopes() {
    let server = people_server().await;
    let alice = token(&server, "alice", "openid profile email groups").await;
    for method in [Method::GET, Method::POST] {
        let (status, _, body) = ask(&server, method, &format!("Bearer {alice}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"sub": "alice", "name": "Alice Smith", "preferred_username": "alice",
                "email": "alice@example.com", "email_verified": true, "groups": ["admins"]})
        );
    }
    let bob = token(&server, "bob", "openid").await;
    let (_, _, body) = ask(&server, Method::GET, &format!("Bearer {bob}"), None).await;
    assert_eq!(body, json!({"sub": "bob"}));
}

#[tokio::test]
async fn userinfo_refuses_with_rfc_6750_challenges() {
    let server = people_server().await;
    let (status, challenge, body) = ask(&server, Method::GET, "Bearer not-a-token", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(challenge.starts_with("Bearer ") && challenge.contains("invalid_token"));
    let api_only = token(&server, "alice", "api1").await;
    let (status, challenge, body) =
        ask(&server, Method::GET, &format!("Bearer {api_only}"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    assert!(challenge.contains(r#"scope="openid""#), "{challenge}");
}

#[tokio::test]
async fn a_dpop_bound_token_is_accepted_only_with_a_proof_of_its_key() {
    let server = people_server().await;
    let key = Dpop::new();
    let endpoint = server.url("/connect/token");
    let r = server
        .http
        .post(&endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "DPoP",
            key.proof("POST", &endpoint, now().unix_timestamp(), None),
        )
        .body(redeem_form(
            &code_for("spa", "alice", "openid profile"),
            Some("spa"),
        ))
        .send()
        .await
        .unwrap();
    let issued: Value = r.json().await.unwrap();
    let bound = issued["access_token"].as_str().unwrap();
    let (status, _, _) = ask(&server, Method::GET, &format!("Bearer {bound}"), None).await;
    assert_eq!(status, 401, "a bound token as a bearer token");
    let url = server.url("/connect/userinfo");
    let proof = key.proof("GET", &url, now().unix_timestamp(), Some(bound));
    let (status, _, body) = ask(
        &server,
        Method::GET,
        &format!("DPoP {bound}"),
        Some(proof.clone()),
    )
    .await;
    assert_eq!((status, &body["name"]), (200, &Value::from("Alice Smith")));
    let (status, challenge, _) =
        ask(&server, Method::GET, &format!("DPoP {bound}"), Some(proof)).await;
    assert_eq!(status, 401, "a proof is used once");
    assert!(challenge.starts_with("DPoP "), "{challenge}");
}
