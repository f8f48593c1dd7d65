//! The signing key on disk: generated once, private, reused, never replaced.

use std::os::unix::fs::PermissionsExt;

use crate::support::{TestServer, quickstart_toml};

async fn kid(server: &TestServer) -> String {
    let jwks: serde_json::Value = server.get_json("/.well-known/jwks.json").await;
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_key_is_generated_private_and_reused_after_a_restart() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let first = kid(&server).await;
    let token = server.token("client", "secret", None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = server.dir.path().join("keys");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&keys), 0o700);
    assert_eq!(mode(&keys.join("signing-es256.pem")), 0o600);

    let dir = server.stop().await;
    let server = TestServer::spawn_in(dir).await;
    assert_eq!(kid(&server).await, first);
    // A token from before the restart still verifies against the JWKS
    // (the issuer differs only because the test port changed).
    let jwks: jsonwebtoken::jwk::JwkSet = server.get_json("/.well-known/jwks.json").await;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&first).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
}

#[tokio::test]
async fn a_relative_key_folder_resolves_against_the_config_file() {
    let toml = format!("[keys]\ndir = \"secrets/jwt\"\n{}", quickstart_toml());
    let server = TestServer::spawn(&toml).await;
    assert!(
        server
            .dir
            .path()
            .join("secrets/jwt/signing-es256.pem")
            .exists()
    );
}

#[tokio::test]
async fn a_corrupt_key_file_stops_startup_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let file = keys.join("signing-es256.pem");
    std::fs::write(&file, "not a key").unwrap();
    let err = tollgate::Server::bind(&dir.path().join("identity.toml"), Some("127.0.0.1:0"))
        .await
        .err()
        .expect("startup fails");
    let message = format!("{err:#}");
    assert!(message.contains("signing-es256.pem"), "{message}");
    assert!(message.contains("fix or remove"), "{message}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a key");
}
