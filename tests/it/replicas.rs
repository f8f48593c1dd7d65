//! Scale-out: three tollgate processes on loopback from one identity.toml
//! and one set of declared key files, as three pods of the Kubernetes
//! Deployment. Every token validates against another replica's JWKS, and
//! an edit of the file (a new client, a new key) converges on all three.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Logged, at, basic, eventually, hash, kid_of, start_logged, verify_at, write_key,
};

fn config(keys: &[(&str, String)], extra_client: bool) -> String {
    let mut toml = "issuer = \"http://tollgate.test\"\n".to_owned();
    for (file, activate_at) in keys {
        toml += &format!("[[keys.signing]]\nfile = \"keys/{file}\"\nactivate_at = {activate_at}\n");
    }
    toml += "[[api_scopes]]\nname = \"api1\"\n";
    for id in ["client", "added"]
        .iter()
        .take(if extra_client { 2 } else { 1 })
    {
        toml += &format!(
            "[[clients]]\nclient_id = \"{id}\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        );
    }
    toml
}

async fn token(http: &reqwest::Client, base: &str, client: &str) -> Result<String, u16> {
    let r = http
        .post(format!("{base}/connect/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic(client, "secret"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    if r.status() != 200 {
        return Err(r.status().as_u16());
    }
    let body: Value = r.json().await.unwrap();
    Ok(body["access_token"].as_str().unwrap().to_owned())
}

async fn health(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_agree_on_keys_and_converge_on_every_edit() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let current = write_key(&keys, "current.pem", tollgate::Algorithm::ES256);
    let file = dir.path().join("identity.toml");
    std::fs::write(&file, config(&[("current.pem", at(-3600))], false)).unwrap();

    let mut replicas: Vec<Logged> = Vec::new();
    for _ in 0..3 {
        replicas.push(start_logged(&file, "info", &[]).await);
    }
    let bases: Vec<String> = replicas
        .iter()
        .map(|r| format!("http://{}", r.addr))
        .collect();
    let http = reqwest::Client::new();

    // Round-robin, each token checked against the next replica's JWKS.
    for i in 0..30 {
        let t = token(&http, &bases[i % 3], "client").await.unwrap();
        assert_eq!(kid_of(&t), current);
        let claims = verify_at(&http, &bases[(i + 1) % 3], &t).await.unwrap();
        assert_eq!(claims["iss"], "http://tollgate.test");
    }

    // One edit: a new client and a new key that activates in 3 s.
    let next = write_key(&keys, "next.pem", tollgate::Algorithm::ES256);
    std::fs::write(
        &file,
        config(&[("current.pem", at(-3600)), ("next.pem", at(3))], true),
    )
    .unwrap();
    let mut hashes = Vec::new();
    for base in &bases {
        let h = eventually(
            Duration::from_secs(5),
            "the edit on every replica",
            || async {
                let h = health(&http, base).await;
                (h["config"]["generation"] == 2).then_some(h)
            },
        )
        .await;
        assert!(
            h["keys"]["published"]
                .as_array()
                .unwrap()
                .contains(&Value::from(next.clone()))
        );
        assert_eq!(
            h["keys"]["active_kid"],
            current.as_str(),
            "published, not yet signing"
        );
        hashes.push(h["config"]["sha256"].clone());
        assert!(
            token(&http, base, "added").await.is_ok(),
            "the new client works on {base}"
        );
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");

    // At the activation instant all three switch, without talking.
    for base in &bases {
        eventually(
            Duration::from_secs(8),
            "the new key signs everywhere",
            || async {
                let t = token(&http, base, "client").await.unwrap();
                (kid_of(&t) == next).then_some(())
            },
        )
        .await;
    }
    for i in 0..6 {
        let t = token(&http, &bases[i % 3], "client").await.unwrap();
        assert_eq!(kid_of(&t), next);
        verify_at(&http, &bases[(i + 2) % 3], &t).await.unwrap();
    }
    for r in &mut replicas {
        let _ = r.child.kill();
        let _ = r.child.wait();
    }
}
