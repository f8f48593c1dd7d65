//! Signing keys on a live server: automatic keys (generated private,
//! reused, rotated on schedule on a clock the test moves), declared keys
//! (replicas that agree, keys added by editing the file), every algorithm,
//! and `tollgate keys generate`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use tollgate_jose::clock::ManualClock;

use serde_json::Value;

use crate::support::{
    TestServer, at, eventually, jwks_kids, jwt_parts, key_files, kid_of, managed, quickstart_toml,
    scrape, start, tollgate_bin, unique, verify_against, write_key,
};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

async fn access_token(server: &TestServer) -> String {
    server.token("client", "secret", None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn declared(file: &str, activate_at: &str) -> String {
    format!("[[keys.signing]]\nfile = \"{file}\"\nactivate_at = {activate_at}\n")
}

#[tokio::test]
async fn the_automatic_key_is_generated_private_and_reused_after_a_restart() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let first = jwks_kids(&server).await;
    assert_eq!(first.len(), 1);
    let token = access_token(&server).await;
    let keys = server.dir.path().join("keys");
    assert_eq!(mode(&keys), 0o700);
    let files = key_files(&keys);
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with(".es256.pem"), "{files:?}");
    assert_eq!(mode(&keys.join(&files[0])), 0o600);

    let dir = server.stop().await;
    let server = TestServer::spawn_in(dir).await;
    assert_eq!(jwks_kids(&server).await, first);
    // A token from before the restart still verifies against the JWKS.
    verify_against(&server, &token).await.unwrap();
}

#[tokio::test]
async fn a_relative_key_folder_resolves_against_the_config_file() {
    let toml = format!("[keys]\ndir = \"secrets/jwt\"\n{}", quickstart_toml());
    let server = TestServer::spawn(&toml).await;
    assert_eq!(key_files(&server.dir.path().join("secrets/jwt")).len(), 1);
}

#[tokio::test]
async fn the_key_file_of_earlier_versions_is_adopted_with_its_kid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let kid = write_key(&keys, "signing-es256.pem", tollgate::Algorithm::ES256);
    let server = TestServer::spawn_in(dir).await;
    assert_eq!(jwks_kids(&server).await, std::slice::from_ref(&kid));
    assert_eq!(kid_of(&access_token(&server).await), kid);
    let files = key_files(&keys);
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with(".es256.pem"), "renamed: {files:?}");
}

#[tokio::test]
async fn a_corrupt_key_file_stops_startup_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), quickstart_toml()).unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let file = keys.join("20261101T000000Z.es256.pem");
    std::fs::write(&file, "not a key").unwrap();
    let err = tollgate::Server::builder(&dir.path().join("identity.toml"))
        .listen("127.0.0.1:0")
        .bind()
        .await
        .err()
        .expect("startup fails");
    let message = format!("{err:#}");
    assert!(message.contains("20261101T000000Z.es256.pem"), "{message}");
    assert!(message.contains("fix or remove"), "{message}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a key");
    assert_eq!(key_files(&keys).len(), 1, "no replacement key was made");
}

/// The whole automatic lifecycle on a live server, on a clock the test
/// moves: announce, switch, retain, delete.
#[tokio::test]
async fn automatic_keys_are_announced_switched_retained_and_deleted_on_schedule() {
    let toml = format!(
        "[keys]\nrotate_every = \"1h\"\nannounce = \"10m\"\nretain = \"2h\"\n{}",
        quickstart_toml()
    );
    let clock = ManualClock::new(start());
    let server = TestServer::spawn_with_clock(&toml, clock.clone()).await;
    let keys = server.dir.path().join("keys");
    let first = jwks_kids(&server).await;
    assert_eq!(first.len(), 1);
    let a = first[0].clone();
    let token_a = access_token(&server).await;
    assert_eq!(kid_of(&token_a), a);

    // Ten minutes before the switch, the next key is published ahead of
    // its turn, and does not sign yet.
    clock.advance(time::Duration::minutes(50));
    wake_key_maintenance(&server);
    let b = eventually(
        Duration::from_secs(5),
        "the next key is announced",
        || async {
            let kids = jwks_kids(&server).await;
            (kids.len() == 2).then(|| kids[0].clone())
        },
    )
    .await;
    assert_ne!(a, b);
    assert_eq!(
        kid_of(&access_token(&server).await),
        a,
        "announced, not active"
    );
    assert_eq!(key_files(&keys).len(), 2);

    // At the switch it takes over; tokens signed before still verify.
    clock.advance(time::Duration::minutes(10));
    assert_eq!(kid_of(&access_token(&server).await), b, "the new key signs");
    assert_eq!(jwks_kids(&server).await, [b.clone(), a.clone()]);
    verify_against(&server, &token_a).await.unwrap();

    // Still published just before `retain` is over, gone after.
    clock.advance(time::Duration::hours(2) - time::Duration::seconds(1));
    assert!(jwks_kids(&server).await.contains(&a), "retained");
    clock.advance(time::Duration::seconds(1));
    assert!(!jwks_kids(&server).await.contains(&a), "retired");
    let health: serde_json::Value = server.get_json("/healthz").await;
    assert_eq!(health["keys"]["mode"], "automatic");

    // The next maintenance deletes its file and, the active key being due
    // within `announce`, creates the one after it: once that one is
    // published, the folder is done. (Polled over HTTP: reading files in
    // the watched folder would itself be events for the reloader.)
    wake_key_maintenance(&server);
    let c = eventually(
        Duration::from_secs(5),
        "the maintenance after `retain`",
        || async {
            let kids = jwks_kids(&server).await;
            (kids.len() == 2 && kids[1] == b).then(|| kids[0].clone())
        },
    )
    .await;
    let mut stored: Vec<String> = key_files(&keys)
        .iter()
        .map(|f| {
            let pem = std::fs::read_to_string(keys.join(f)).unwrap();
            let key = tollgate::SigningKey::from_pkcs8_pem(&pem).unwrap();
            key.kid().to_owned()
        })
        .collect();
    stored.sort();
    let mut expected = vec![b, c];
    expected.sort();
    assert_eq!(stored, expected, "the old key's file is deleted");
}

/// Wakes the key maintenance of `server` now rather than at its next
/// scheduled instant on the wall clock: any reload does, and appending a
/// comment is one.
fn wake_key_maintenance(server: &TestServer) {
    let file = server.dir.path().join("identity.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!("# wake {}\n", unique()));
    std::fs::write(&file, text).unwrap();
}

#[tokio::test]
async fn a_deleted_key_folder_keeps_the_keys_in_memory_and_is_reported() {
    let server = TestServer::spawn(&managed(&quickstart_toml())).await;
    let kid = crate::support::jwks_kids(&server).await;
    let before = server.token("client", "secret", None).await;
    std::fs::remove_dir_all(server.dir.path().join("keys")).unwrap();
    // Any reload wakes the key maintenance.
    let file = server.dir.path().join("identity.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&file, text).unwrap();
    let url = server.url("/healthz");
    let http = server.http.clone();
    let health: Value = eventually(Duration::from_secs(10), "the fault on /healthz", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let h: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            h["keys"]["fault"].is_string().then_some(h)
        }
    })
    .await;
    assert_eq!(health["status"], "degraded");
    assert!(
        !server.dir.path().join("keys").exists(),
        "nothing was written"
    );
    assert_eq!(
        crate::support::jwks_kids(&server).await,
        kid,
        "the same keys are published"
    );
    let after = server.token("client", "secret", None).await;
    let kid_of = |t: &Value| crate::support::kid_of(t["access_token"].as_str().unwrap());
    assert_eq!(kid_of(&before), kid_of(&after), "and the same key signs");
    let full = scrape(&server.http, server.management.unwrap()).await;
    assert!(full.contains("tollgate_signing_key_fault 1"), "{full}");
}

/// The declared setup of the Kubernetes deployment: one file, key files
/// beside it, several replicas.
fn declared_dir(keys: &[(&str, tollgate::Algorithm, i64)]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let mut toml = "issuer = \"http://tollgate.test\"\n".to_owned();
    let mut kids = Vec::new();
    for (name, alg, activate) in keys {
        kids.push(write_key(&dir.path().join("keys"), name, *alg));
        toml += &declared(&format!("keys/{name}"), &at(*activate));
    }
    toml += &quickstart_toml();
    std::fs::write(dir.path().join("identity.toml"), toml).unwrap();
    (dir, kids)
}

fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    std::fs::create_dir(to.path().join("keys")).unwrap();
    std::fs::copy(from.join("identity.toml"), to.path().join("identity.toml")).unwrap();
    for f in key_files(&from.join("keys")) {
        std::fs::copy(from.join("keys").join(&f), to.path().join("keys").join(&f)).unwrap();
    }
    to
}

#[tokio::test]
async fn replicas_with_the_same_declared_keys_verify_each_others_tokens() {
    let (dir, kids) = declared_dir(&[
        ("old.pem", tollgate::Algorithm::ES256, -86_400),
        ("current.pem", tollgate::Algorithm::ES256, -3_600),
        ("next.pem", tollgate::Algorithm::ES256, 86_400),
    ]);
    let copy = copy_dir(dir.path());
    let one = TestServer::spawn_in(dir).await;
    let two = TestServer::spawn_in(copy).await;
    // Same JWKS (newest first), same active key: no coordination needed.
    let expected: Vec<String> = kids.iter().rev().cloned().collect();
    assert_eq!(jwks_kids(&one).await, expected);
    assert_eq!(jwks_kids(&two).await, expected);
    for (from, to) in [(&one, &two), (&two, &one)] {
        let token = access_token(from).await;
        assert_eq!(kid_of(&token), kids[1], "the latest activated key signs");
        let claims = verify_against(to, &token).await.unwrap();
        assert_eq!(claims["iss"], "http://tollgate.test");
    }
    // Nothing was written next to declared keys.
    assert_eq!(key_files(&one.dir.path().join("keys")).len(), 3);
    let health: serde_json::Value = one.get_json("/healthz").await;
    assert_eq!(health["keys"]["mode"], "declared");
    assert_eq!(health["keys"]["active_kid"], kids[1]);
    assert_eq!(health["keys"]["published"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_key_added_to_the_file_is_published_at_once_and_signs_only_from_its_activation() {
    let (dir, kids) = declared_dir(&[("a.pem", tollgate::Algorithm::ES256, -60)]);
    let t0 = start();
    let clock = ManualClock::new(t0);
    let server = TestServer::spawn_in_with_clock(dir, clock.clone()).await;
    let token_a = access_token(&server).await;
    assert_eq!(kid_of(&token_a), kids[0]);

    let b = write_key(
        &server.dir.path().join("keys"),
        "b.pem",
        tollgate::Algorithm::EdDSA,
    );
    let file = server.dir.path().join("identity.toml");
    let mut toml = std::fs::read_to_string(&file).unwrap();
    let activate_at = t0 + time::Duration::hours(1);
    toml = toml.replacen(
        "[[keys.signing]]",
        &format!(
            "{}[[keys.signing]]",
            declared("keys/b.pem", &tollgate::rfc3339(activate_at))
        ),
        1,
    );
    std::fs::write(&file, toml).unwrap();
    eventually(
        Duration::from_secs(1),
        "the new key is published",
        || async { jwks_kids(&server).await.contains(&b).then_some(()) },
    )
    .await;
    assert_eq!(
        kid_of(&access_token(&server).await),
        kids[0],
        "not before its time"
    );
    let discovery: serde_json::Value = server.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "EdDSA"])
    );

    // A second before activate_at, still the old key; at it, the new one
    // (EdDSA), and the older token still verifies.
    clock.advance(activate_at - time::Duration::seconds(1) - t0);
    assert_eq!(kid_of(&access_token(&server).await), kids[0]);
    clock.advance(time::Duration::seconds(1));
    let token_b = access_token(&server).await;
    assert_eq!(kid_of(&token_b), b, "the new key signs");
    assert_eq!(jwt_parts(&token_b).0["alg"], "EdDSA");
    verify_against(&server, &token_b).await.unwrap();
    verify_against(&server, &token_a).await.unwrap();
}

#[tokio::test]
async fn tokens_of_every_algorithm_pass_the_sample_apis_validator() {
    for alg in tollgate::Algorithm::ALL {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        let kid = write_key(&dir.path().join("keys"), "k.pem", alg);
        let toml = format!("{}{}", declared("keys/k.pem", &at(-60)), quickstart_toml());
        std::fs::write(dir.path().join("identity.toml"), toml).unwrap();
        let server = TestServer::spawn_in(dir).await;
        let token = access_token(&server).await;
        let (header, _) = jwt_parts(&token);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["kid"], kid);
        let validator = tollgate_resource::TokenValidator::new(&server.issuer(), Some("api1"));
        let claims = validator
            .validate(Some(&format!("Bearer {token}")))
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(claims["client_id"], "client");
    }
}

#[tokio::test]
async fn keys_generate_writes_a_private_key_and_a_snippet_that_works_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(tollgate_bin())
        .args([
            "keys",
            "generate",
            "--out",
            "keys/2026-11.pem",
            "--algorithm",
            "RS256",
        ])
        .args(["--activate-at", "now"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key_file = dir.path().join("keys/2026-11.pem");
    assert_eq!(mode(&key_file), 0o600);
    let kid = stdout
        .split_whitespace()
        .nth(2)
        .expect("# kid KID ...")
        .to_owned();
    let snippet: String = stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(snippet.starts_with("[[keys.signing]]"), "{stdout}");
    std::fs::write(
        dir.path().join("identity.toml"),
        format!("{snippet}\n{}", quickstart_toml()),
    )
    .unwrap();
    let check = std::process::Command::new(tollgate_bin())
        .args(["check", "--config"])
        .arg(dir.path().join("identity.toml"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // Never overwrites a key.
    let again = std::process::Command::new(tollgate_bin())
        .args(["keys", "generate", "--out", "keys/2026-11.pem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));

    let server = TestServer::spawn_in(dir).await;
    let token = access_token(&server).await;
    assert_eq!(kid_of(&token), kid);
    assert_eq!(jwt_parts(&token).0["alg"], "RS256");
}
