//! The bound tokens page's curl outputs come from a run: the page's own
//! file (its `toml` block, the hashes it elides made from the secrets its
//! comments name) served by the real binary, and the page's requests sent
//! as curl sends them. Compared with docs/src/generated/ as in
//! handbook.rs; tokens are cut short with `…`.

use crate::handbook::{generated, root, shorten};
use crate::handbook_logs::free_port;
use crate::support::{basic, hash, start_logged_at};

/// The page's file: its first `toml` block, with real hashes, on `port`.
fn bound_tokens_file(port: u16) -> String {
    let page = std::fs::read_to_string(root().join("docs/src/bound-tokens.md")).unwrap();
    let from = page.find("```toml\n").unwrap() + "```toml\n".len();
    let to = from + page[from..].find("```").unwrap();
    let mut file = String::new();
    for line in page[from..to].lines() {
        let line = if line.starts_with("hash = \"$argon2id$…\"") {
            let secret = line.split('"').nth(3).unwrap_or_else(|| panic!("{line}"));
            format!("hash = \"{}\"", hash(secret))
        } else {
            line.replace("5011", &port.to_string())
                .replace("127.0.0.1:9011", "127.0.0.1:0")
        };
        file.push_str(&line);
        file.push('\n');
    }
    file
}

/// One `curl -s` the page shows, sent: its command line (the page's port)
/// and the body the server answered.
async fn curl(port: u16, user: (&str, &str), dpop: Option<&str>, data: &[&str]) -> String {
    let mut request = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/connect/token"))
        .header("Authorization", basic(user.0, user.1))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(data.join("&"));
    let mut command = format!("$ curl -s -u {}:{}", user.0, user.1);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
        command.push_str(&format!(" -H 'DPoP: {proof}'"));
    }
    for item in data {
        command.push_str(&format!(" -d {item}"));
    }
    let body = request.send().await.unwrap().text().await.unwrap();
    format!("{command} localhost:5011/connect/token\n{body}\n")
}

/// The page's resource indicators and DPoP refusals at the token
/// endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_tokens_page_s_requests_answer_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = dir.path().join("identity.toml");
    std::fs::write(&file, bound_tokens_file(port)).unwrap();
    let mut server = start_logged_at(&file, "info", &format!("127.0.0.1:{port}"), &[], &[]).await;
    let client = ("client", "secret");
    let grant = "grant_type=client_credentials";
    let orders = "resource=https://orders.example.com";
    let token = curl(port, client, None, &[grant, orders]).await;
    generated(
        "bound-resource-token.txt",
        &shorten(&token, "access_token", 20),
    );
    let mut refused = String::new();
    for resource in ["resource=https://unknown.example.com", "resource=orders"] {
        refused.push_str(&curl(port, client, None, &[grant, resource]).await);
    }
    refused.push_str(&curl(port, client, None, &[grant, orders, "scope=api1"]).await);
    generated("bound-invalid-target.txt", &refused);
    let dpop = format!(
        "{}{}",
        curl(port, client, Some("x.y.z"), &[grant]).await,
        curl(port, ("strict", "secret"), None, &[grant]).await
    );
    generated("bound-dpop-refused.txt", &dpop);
    let log = server.stop();
    assert!(log.contains("listening on"), "{log}");
}
