//! The replay store is shared, and each client's share of it is bounded
//! once it is half full: a client that floods it with unique assertion
//! ids is refused alone, and the other clients' assertions go on.

use serde_json::json;

use crate::support::TestServer;
use crate::support::{Signer, assertion_form, start};

#[tokio::test]
async fn a_client_over_its_replay_quota_is_refused_alone() {
    let (flood, victim) = (
        Signer::new(tollgate::Algorithm::ES256),
        Signer::new(tollgate::Algorithm::ES256),
    );
    let toml = format!(
        r#"
[replay]
capacity = 6
max_per_client = 3
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "flood"
allowed_scopes = ["api1"]
jwks = {{ keys = [ {flood} ] }}
[[clients]]
client_id = "victim"
allowed_scopes = ["api1"]
jwks = {{ keys = [ {victim} ] }}
"#,
        flood = flood.toml(),
        victim = victim.toml(),
    );
    let server = TestServer::spawn(&toml).await;
    let issuer = server.issuer();
    let now = start().unix_timestamp();
    let assertion = |who: &Signer, id: &str, jti: &str| {
        assertion_form(&who.sign(
            None,
            &json!({"iss": id, "sub": id, "aud": issuer, "exp": now + 300, "jti": jti}),
        ))
    };
    for n in 0..3 {
        let r = server
            .token_raw(&assertion(&flood, "flood", &format!("f{n}")), None)
            .await;
        assert_eq!(r.status(), 200);
    }
    let over = server
        .token_raw(&assertion(&flood, "flood", "f3"), None)
        .await;
    assert_eq!(over.status(), 503);
    assert!(over.headers().contains_key("retry-after"));
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // The others are not affected.
    for n in 0..3 {
        let r = server
            .token_raw(&assertion(&victim, "victim", &format!("v{n}")), None)
            .await;
        assert_eq!(r.status(), 200);
    }
    // And a replay is still a replay, not a quota matter.
    let again = server
        .token_raw(&assertion(&victim, "victim", "v0"), None)
        .await;
    assert_eq!(again.status(), 401);
    let health: serde_json::Value = server.get_json("/healthz").await;
    assert_eq!(health["replay"]["entries"], 6, "{health}");
}
