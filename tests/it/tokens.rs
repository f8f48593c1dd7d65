//! Issued tokens: RFC 9068 header and claims, verified through the
//! published JWKS.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;

use crate::support::{TestServer, hash, jwt_parts, quickstart_toml};

async fn verify(server: &TestServer, token: &str) -> Value {
    let jwks: JwkSet = server.get_json("/.well-known/jwks.json").await;
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid is published");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[server.issuer()]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("token verifies against the JWKS")
        .claims
}

#[tokio::test]
async fn tokens_are_rfc_9068_jwts_that_verify_through_the_jwks() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let response = server.token("client", "secret", Some("api1")).await;
    let token = response["access_token"].as_str().unwrap();
    let (header, _) = jwt_parts(token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let claims = verify(&server, token).await;
    assert_eq!(claims["iss"], server.issuer());
    assert_eq!(claims["sub"], "client");
    assert_eq!(claims["client_id"], "client");
    assert_eq!(claims["aud"], format!("{}/resources", server.issuer()));
    assert_eq!(claims["scope"], "api1");
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64().unwrap(), iat);
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 3600);
    let now = crate::support::now().unix_timestamp();
    assert!((now - iat).abs() < 60);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
}

#[tokio::test]
async fn every_token_has_its_own_jti() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let a = server.token("client", "secret", None).await;
    let b = server.token("client", "secret", None).await;
    let jti = |t: &Value| jwt_parts(t["access_token"].as_str().unwrap()).1["jti"].clone();
    assert_ne!(jti(&a), jti(&b));
}

#[tokio::test]
async fn audiences_lifetime_and_extra_claims_come_from_the_config() {
    let toml = format!(
        r#"
issuer = "https://id.example.com/"
[[api_scopes]]
name = "orders.read"
[[api_scopes]]
name = "invoices.read"
[[api_scopes]]
name = "plain"
[[api_resources]]
name = "urn:orders"
scopes = ["orders.read"]
[[api_resources]]
name = "urn:invoices"
scopes = ["invoices.read"]

[[clients]]
client_id = "svc"
allowed_scopes = ["orders.read", "invoices.read", "plain"]
access_token_lifetime = "15m"
claims = {{ tenant = "acme", tier = 3 }}
[[clients.secrets]]
hash = "{}"
"#,
        hash("secret")
    );
    let server = TestServer::spawn(&toml).await;
    let token = |scope: &'static str| {
        let server = &server;
        async move {
            let t = server.token("svc", "secret", Some(scope)).await;
            assert_eq!(t["expires_in"], 900);
            jwt_parts(t["access_token"].as_str().unwrap()).1
        }
    };
    let one = token("orders.read").await;
    assert_eq!(one["aud"], "urn:orders");
    assert_eq!(
        one["iss"], "https://id.example.com",
        "trailing slash trimmed"
    );
    assert_eq!(one["tenant"], "acme");
    assert_eq!(one["tier"], 3);
    assert_eq!(
        one["exp"].as_i64().unwrap() - one["iat"].as_i64().unwrap(),
        900
    );
    let two = token("invoices.read orders.read").await;
    assert_eq!(
        two["aud"],
        serde_json::json!(["urn:orders", "urn:invoices"])
    );
    let none = token("plain").await;
    assert_eq!(none["aud"], "https://id.example.com/resources");
}

#[tokio::test]
async fn the_resource_validator_accepts_our_tokens_and_enforces_scope() {
    use tollgate_resource::{Rejection, TokenValidator};
    let server = TestServer::spawn(&quickstart_toml()).await;
    let token = server.token("client", "secret", None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let ok = TokenValidator::new(&server.issuer(), Some("api1"));
    assert_eq!(ok.validate(Some(&bearer)).await.unwrap()["sub"], "client");
    let aud = TokenValidator::new(&server.issuer(), None)
        .with_audience(&format!("{}/resources", server.issuer()));
    aud.validate(Some(&bearer)).await.unwrap();
    let wrong_aud = TokenValidator::new(&server.issuer(), None).with_audience("urn:other");
    assert!(matches!(
        wrong_aud.validate(Some(&bearer)).await,
        Err(Rejection::InvalidToken(_))
    ));
    let other_scope = TokenValidator::new(&server.issuer(), Some("api2"));
    assert_eq!(
        other_scope.validate(Some(&bearer)).await,
        Err(Rejection::InsufficientScope("api2".into()))
    );
    assert_eq!(ok.validate(None).await, Err(Rejection::MissingToken));
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 5.., "AAAAA");
    assert!(matches!(
        ok.validate(Some(&format!("Bearer {forged}"))).await,
        Err(Rejection::InvalidToken(_))
    ));
}

#[tokio::test]
async fn the_resource_validator_refetches_the_jwks_when_a_new_kid_appears() {
    use crate::support::TestServer;
    use tollgate_resource::TokenValidator;
    // Two servers in turn on one address with one issuer but different key
    // folders: the second one signs with a key the validator has not seen.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let config = format!("issuer = \"http://{addr}\"\n{}", quickstart_toml());
    let make = |config: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("identity.toml"), config).unwrap();
        dir
    };
    let a = TestServer::spawn_at(make(&config), &addr).await;
    let clock = tollgate_jose::clock::ManualClock::new(tollgate_jose::clock::system().now());
    let validator =
        TokenValidator::new(&format!("http://{addr}"), Some("api1")).with_clock(clock.clone());
    let token_a = a.token("client", "secret", None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    validator
        .validate(Some(&format!("Bearer {token_a}")))
        .await
        .unwrap();
    drop(a.stop().await);

    let b = TestServer::spawn_at(make(&config), &addr).await;
    let token_b = b.token("client", "secret", None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(jwt_parts(&token_a).0["kid"], jwt_parts(&token_b).0["kid"]);
    let bearer = format!("Bearer {token_b}");
    // An unknown kid is fetched for at once, unless the last fetch was
    // within the refetch interval (10 s), as here.
    assert!(validator.validate(Some(&bearer)).await.is_err());
    clock.advance(time::Duration::seconds(11));
    let claims = validator.validate(Some(&bearer)).await.unwrap();
    assert_eq!(claims["sub"], "client");
}
