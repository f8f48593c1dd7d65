//! An MCP client that registers by URL (a Client ID Metadata Document,
//! MCP 2025-11-25): the official TypeScript SDK, unmodified, with
//! `clientMetadataUrl` set to a document served over https on loopback
//! (a certificate made here, which tollgate trusts through the platform
//! store's `SSL_CERT_FILE`). tollgate fetches the document, asks alice for
//! consent naming the URL's host, and the SDK finishes the flow, calls
//! `whoami` as her, then steps up for the admin tool.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::mcp::{node_run, sdk};
use crate::support::{eventually, example, hash, start_logged_with_env, start_process};

/// The SDK's redirect URI (tests/mcp/person.mjs's default).
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

/// Serves `document` at every path over TLS with `cert`/`key`, until
/// dropped; `Connection: close`, one request a connection.
async fn serve_document(
    listener: tokio::net::TcpListener,
    cert: rcgen::CertifiedKey<rcgen::KeyPair>,
    document: String,
) -> tokio::task::JoinHandle<()> {
    let chain = vec![cert.cert.der().clone()];
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, document) = (acceptor.clone(), document.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=300\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{document}",
                    document.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    })
}

/// The main file: alice, URL clients allowed under the document server's
/// origin, and the MCP sample's scopes and resource (at `resource`).
fn identity(origin: &str, resource: &str) -> String {
    let shipped = include_str!("../../examples/clients.d/mcp.toml");
    let documented = r#"name = "http://127.0.0.1:7001/mcp""#;
    format!(
        r#"{}
[login]
[[users]]
username = "alice"
password_hash = "{}"

[client_metadata_documents]
allow = ["{origin}/ide/*"]
allowed_scopes = ["mcp:tools", "mcp:admin"]
"#,
        shipped.replace(documented, &format!("name = \"{resource}\"")),
        hash("alice"),
    )
}

#[tokio::test]
async fn the_typescript_sdk_registers_by_a_client_metadata_document_and_signs_alice_in() {
    let Some(sdk) = sdk() else { return };
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let url = format!("{origin}/ide/client.json");
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_file = dir.path().join("documents.pem");
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    let document = serde_json::json!({
        "client_id": url,
        "client_name": "tollgate test IDE",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
    .to_string();
    let _documents = serve_document(listener, cert, document).await;

    let config = dir.path().join("identity.toml");
    std::fs::write(&config, identity(&origin, "http://127.0.0.1:1/mcp")).unwrap();
    let mut tollgate = start_logged_with_env(
        &config,
        "info",
        &[],
        &[("SSL_CERT_FILE", cert_file.to_str().unwrap())],
    )
    .await;
    let issuer = format!("http://{}", tollgate.addr);
    let (_mcp, resource) = start_process(
        &example("mcp"),
        &["--authority", &issuer, "--listen", "127.0.0.1:0"],
        "MCP server listening on ",
    )
    .await;
    std::fs::write(&config, identity(&origin, &resource)).unwrap();
    let http = reqwest::Client::new();
    eventually(Duration::from_secs(10), "the resource applied", || async {
        let h: serde_json::Value = http
            .get(format!("{issuer}/healthz"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (h["config"]["generation"].as_u64() == Some(2)).then_some(())
    })
    .await;

    let out = node_run(
        sdk,
        "person.mjs",
        vec![
            ("MCP_SERVER_URL", resource.clone()),
            ("MCP_CLIENT_METADATA_URL", url.clone()),
            ("MCP_REDIRECT_URL", REDIRECT.to_owned()),
            ("MCP_USERNAME", "alice".into()),
            ("MCP_PASSWORD", "alice".into()),
        ],
    )
    .await;
    let (ok, out) = out;
    assert!(
        ok,
        "person.mjs failed:\n{out}\n--- tollgate's log\n{}",
        tollgate.stop()
    );
    assert!(out.contains(&format!("client_id: {url}\n")), "{out}");
    assert!(out.contains("whoami: alice\n"), "{out}");
    assert!(out.contains("admin_stats: {"), "{out}");
    assert!(
        out.contains("scopes: mcp:tools -> mcp:tools mcp:admin"),
        "{out}"
    );
}
