//! Discovery and JWKS.

use serde_json::Value;

use crate::support::{TestServer, quickstart_toml};

async fn get(server: &TestServer, path: &str) -> Value {
    server.get_json(path).await
}

#[tokio::test]
async fn discovery_is_served_at_both_well_known_paths_with_the_fields_clients_need() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let oidc = get(&server, "/.well-known/openid-configuration").await;
    let rfc8414 = get(&server, "/.well-known/oauth-authorization-server").await;
    assert_eq!(oidc, rfc8414);
    let issuer = server.issuer();
    assert_eq!(oidc["issuer"], issuer);
    assert_eq!(oidc["token_endpoint"], format!("{issuer}/connect/token"));
    assert_eq!(oidc["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        oidc["grant_types_supported"],
        serde_json::json!([
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ])
    );
    assert_eq!(
        oidc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "tls_client_auth",
            "self_signed_tls_client_auth",
            "none"
        ])
    );
    assert_eq!(
        oidc["scopes_supported"],
        serde_json::json!([
            "api1",
            "openid",
            "profile",
            "email",
            "groups",
            "offline_access"
        ])
    );
    assert_eq!(
        oidc["authorization_endpoint"],
        format!("{issuer}/connect/authorize")
    );
    assert_eq!(oidc["response_types_supported"], serde_json::json!([]));
    assert_eq!(
        oidc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
}

/// The OpenID Provider's members: the code flow is offered (`code`) only
/// with `[login]`, because without it the authorization endpoint refuses
/// every request.
#[tokio::test]
async fn discovery_names_the_openid_provider_endpoints_and_the_code_flow_with_login() {
    let without = TestServer::spawn(&quickstart_toml()).await;
    let oidc = get(&without, "/.well-known/openid-configuration").await;
    let issuer = without.issuer();
    assert_eq!(oidc["response_types_supported"], serde_json::json!([]));
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["userinfo_endpoint"],
        format!("{issuer}/connect/userinfo")
    );
    assert_eq!(
        oidc["revocation_endpoint"],
        format!("{issuer}/connect/revoke")
    );
    assert_eq!(
        oidc["end_session_endpoint"],
        format!("{issuer}/connect/endsession")
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    let claims = oidc["claims_supported"].as_array().unwrap();
    for claim in [
        "sub",
        "auth_time",
        "name",
        "preferred_username",
        "email",
        "groups",
    ] {
        assert!(claims.contains(&Value::from(claim)), "{claim}: {claims:?}");
    }
    let with = TestServer::spawn(&format!("{}\n[login]\n", quickstart_toml())).await;
    let oidc = get(&with, "/.well-known/openid-configuration").await;
    assert_eq!(
        oidc["response_types_supported"],
        serde_json::json!(["code"])
    );
}

/// The authorization endpoint is named (RFC 8414 §2; the MCP SDKs refuse
/// metadata without it) only because it answers: every request gets the
/// RFC 6749 §4.1.2.1 error in a 400, never a redirect to the URI it names.
#[tokio::test]
async fn the_authorization_endpoint_refuses_every_request_without_redirecting() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cases = [
        ("", "invalid_request"),
        ("?client_id=client", "invalid_request"),
        (
            "?response_type=code&client_id=client&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s",
            "unsupported_response_type",
        ),
        (
            "?response_type=token&client_id=nobody",
            "unsupported_response_type",
        ),
    ];
    for (query, error) in cases {
        let r = http
            .get(server.url(&format!("/connect/authorize{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        assert!(r.headers().get("location").is_none(), "{query}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], error, "{query}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("token endpoint")
        );
    }
}

#[tokio::test]
async fn the_configured_issuer_is_used_everywhere() {
    let toml = format!("issuer = \"https://id.example.com\"\n{}", quickstart_toml());
    let server = TestServer::spawn(&toml).await;
    let oidc = get(&server, "/.well-known/openid-configuration").await;
    assert_eq!(oidc["issuer"], "https://id.example.com");
    assert_eq!(
        oidc["token_endpoint"],
        "https://id.example.com/connect/token"
    );
}

#[tokio::test]
async fn the_jwks_publishes_only_public_ec_keys_named_by_their_thumbprint() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let jwks = get(&server, "/.well-known/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    let mut members: Vec<_> = key.keys().map(String::as_str).collect();
    members.sort();
    assert_eq!(
        members,
        ["alg", "crv", "kid", "kty", "use", "x", "y"],
        "no private member such as d"
    );
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    // RFC 7638: SHA-256 over the canonical JSON of crv, kty, x, y.
    use base64::Engine;
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        key["x"].as_str().unwrap(),
        key["y"].as_str().unwrap()
    );
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()),
    );
    assert_eq!(key["kid"], thumbprint);
}

#[tokio::test]
async fn health_reports_the_config_generation_and_the_active_key() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let health = get(&server, "/healthz").await;
    let jwks = get(&server, "/.well-known/jwks.json").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["config"]["generation"], 1);
    assert_eq!(health["config"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(health["keys"]["active_kid"], jwks["keys"][0]["kid"]);
}
