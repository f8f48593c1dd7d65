//! `[server.tls]`: HTTPS with the configured files, and a renewed
//! certificate served without a restart.

use std::time::Duration;

use crate::support::{TestServer, eventually, quickstart_toml};

/// A self-signed certificate for 127.0.0.1: (cert PEM, key PEM).
fn self_signed() -> (String, String) {
    let c =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

fn client(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .tls_info(true)
        .build()
        .unwrap()
}

/// The DER certificate the server presented.
async fn presented(http: &reqwest::Client, url: &str) -> Vec<u8> {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .unwrap()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_and_a_renewed_certificate_is_picked_up_live() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/tls.crt"), &cert).unwrap();
    std::fs::write(dir.path().join("tls/tls.key"), &key).unwrap();
    std::fs::write(
        dir.path().join("identity.toml"),
        format!(
            "[server.tls]\ncert = \"tls/tls.crt\"\nkey = \"tls/tls.key\"\n{}",
            quickstart_toml()
        ),
    )
    .unwrap();
    let server = TestServer::spawn_in(dir).await;
    let base = format!("https://{}", server.addr);
    let http = client(&cert);
    let discovery: serde_json::Value = http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], base, "the default issuer is https");
    assert_eq!(discovery["token_endpoint"], format!("{base}/connect/token"));
    let first = presented(&http, &format!("{base}/healthz")).await;
    // The image's HEALTHCHECK works over https too.
    let url = format!("{base}/healthz");
    let check = tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::support::tollgate_bin())
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Plain HTTP on the TLS port gets nowhere.
    assert!(
        reqwest::get(format!("http://{}/healthz", server.addr))
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );

    // cert-manager renews the pair in place.
    let (cert2, key2) = self_signed();
    std::fs::write(server.dir.path().join("tls/tls.key"), &key2).unwrap();
    std::fs::write(server.dir.path().join("tls/tls.crt"), &cert2).unwrap();
    let http2 = client(&cert2);
    let url = format!("{base}/healthz");
    let second = eventually(
        Duration::from_secs(10),
        "the renewed certificate",
        || async {
            let r = http2.get(&url).send().await.ok()?;
            let der = r
                .extensions()
                .get::<reqwest::tls::TlsInfo>()?
                .peer_certificate()?
                .to_vec();
            Some(der)
        },
    )
    .await;
    assert_ne!(first, second);
}

#[test]
fn broken_tls_files_are_problems_at_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tls.crt"), "not a certificate").unwrap();
    let text = format!(
        "[server.tls]\ncert = \"tls.crt\"\nkey = \"tls.key\"\n{}",
        quickstart_toml()
    );
    let err = tollgate::Config::from_toml(
        &text,
        &dir.path().join("identity.toml"),
        crate::support::now(),
    )
    .unwrap_err();
    let problems: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.key_path.as_str(), p.line, p.message.as_str()))
        .collect();
    assert!(
        problems.iter().any(|(k, l, m)| *k == "server.tls.cert"
            && *l == Some(2)
            && m.contains("no PEM CERTIFICATE")),
        "{problems:?}"
    );
}
