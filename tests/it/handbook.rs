//! The handbook's sample outputs come from runs: each test here serves
//! what a page serves, runs what the page runs, and compares the output
//! with the file under docs/src/generated/ that the page includes.
//! `UPDATE_DOCS=1 cargo test --test it -- handbook` rewrites the files.
//! Values that differ on every run (signatures, key ids, `jti`) are
//! shortened to `…`; times come from a pinned clock.

use serde_json::Value;
use tollgate_jose::clock::ManualClock;

use crate::support::{
    TestServer, as_curl_shows, basic, example, exchange_script, generated, one_member_a_line,
    quickstart_toml, root, run_printed, sample_client_shows, shorten, start_logged_with_env,
    start_process, tollgate_bin,
};

/// The quickstart page's step 2: discovery of the shipped file (its
/// issuer, scope and client; the shipped file itself is the reader's to
/// edit, so its content is taken from the tests' copy).
#[tokio::test]
async fn the_quickstart_page_shows_the_discovery_document_the_server_serves() {
    let toml = format!("issuer = \"http://localhost:5001\"\n{}", quickstart_toml());
    let server = TestServer::spawn(&toml).await;
    let discovery: Value = server.get_json("/.well-known/openid-configuration").await;
    generated("discovery.json", &one_member_a_line(&discovery));
}

/// The delegation page: its complete file served, its script run with the
/// arguments the page gives, on a pinned clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delegation_page_s_file_and_script_give_the_output_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/delegation/identity.toml"),
        dir.path().join("identity.toml"),
    )
    .unwrap();
    let at = time::macros::datetime!(2026-12-01 23:00:00 UTC);
    let server = TestServer::spawn_in_with_clock(dir, ManualClock::new(at)).await;
    let out = exchange_script(server.issuer()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let claims: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(claims["sub"], "frontend");
    assert_eq!(claims["client_id"], "orders");
    assert_eq!(claims["act"]["sub"], "orders");
    assert_eq!(claims["aud"], "https://inventory.example.com");
    let shown = format!(
        "{}\n{}\n",
        shorten(lines[0], "access_token", 20),
        shorten(lines[1], "jti", 0)
    );
    generated("token-exchange.txt", &shown);
}

/// The hardware keys page: its script's file has a client that gets a
/// token, and a shell without the script's SOFTHSM2_CONF is told what to
/// look at.
#[tokio::test]
async fn the_hardware_keys_walkthrough_gets_a_token_and_a_new_shell_is_told_what_it_lacks() {
    let Some(hsm) = crate::support::SoftHsm::new() else {
        return;
    };
    let dir = hsm.dir.path();
    crate::support::ok(
        std::process::Command::new("bash")
            .arg(root().join("tests/hardware/softhsm.sh"))
            .arg(tollgate_bin())
            .current_dir(dir)
            .env("SOFTHSM2_MODULE", &hsm.module)
            .env("SERVE", "0"),
    );
    let file = dir.join("identity.toml");
    let conf = dir.join("softhsm2.conf");
    let mut server = start_logged_with_env(
        &file,
        "info",
        &[],
        &[("SOFTHSM2_CONF", conf.to_str().unwrap())],
    )
    .await;
    let status = reqwest::Client::new()
        .post(format!("http://{}/connect/token", server.addr))
        .header("Authorization", basic("client", "secret"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .status();
    let log = server.stop();
    assert_eq!(status, 200, "{log}");
    // A new shell: the module reads another configuration, without the
    // walkthrough's token.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let other = dir.join("other.conf");
    std::fs::write(
        &other,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            elsewhere.display()
        ),
    )
    .unwrap();
    let (code, text) = run_printed(
        std::process::Command::new(tollgate_bin())
            .args(["check", "--config"])
            .arg(&file)
            .env("SOFTHSM2_CONF", &other),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("no token labelled \"tollgate\"") && text.contains("SOFTHSM2_CONF"),
        "{text}"
    );
}

/// The MCP page's step 2: what the sample MCP server answers without a
/// token, and its RFC 9728 metadata (its address as the page's, 7001).
#[tokio::test]
async fn the_mcp_page_shows_what_the_mcp_server_answers_without_a_token() {
    let (_mcp, resource) = start_process(
        &example("mcp"),
        &["--listen", "127.0.0.1:0"],
        "MCP server listening on ",
    )
    .await;
    let http = reqwest::Client::new();
    let challenge = http.post(&resource).send().await.unwrap();
    let challenge = as_curl_shows(challenge, &["content-type", "www-authenticate"]).await;
    let base = resource.trim_end_matches("/mcp");
    let metadata = http
        .get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = format!(
        "$ curl -i -X POST {base}/mcp\n{challenge}\n\
         $ curl {base}/.well-known/oauth-protected-resource/mcp\n{metadata}\n"
    );
    let at = base.trim_start_matches("http://");
    generated("mcp-no-token.txt", &shown.replace(at, "127.0.0.1:7001"));
}

/// The MCP page's authorization endpoint: the one answer it gives.
#[tokio::test]
async fn the_mcp_page_shows_the_authorization_endpoint_s_answer() {
    let toml = format!("issuer = \"http://localhost:5001\"\n{}", quickstart_toml());
    let server = TestServer::spawn(&toml).await;
    let query = "response_type=code&client_id=mcp-agent&redirect_uri=https://elsewhere.example/cb";
    let answer = server
        .http
        .get(server.url(&format!("/connect/authorize?{query}")))
        .send()
        .await
        .unwrap();
    let answer = as_curl_shows(answer, &["content-type", "cache-control"]).await;
    let shown = format!("$ curl -i 'http://localhost:5001/connect/authorize?{query}'\n{answer}");
    generated("mcp-authorize.txt", &shown);
}

/// The quickstart's steps 3 and 4: the sample API without a token, then
/// the sample client's token response and the claims the API saw (the
/// server's address as the page's; times and `jti` shortened).
#[tokio::test]
async fn the_quickstart_page_shows_what_the_api_and_the_client_print() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let authority = server.issuer();
    let (_api, api) = start_process(
        &example("api"),
        &["--authority", &authority, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let refused = reqwest::get(format!("{api}/identity")).await.unwrap();
    let refused = as_curl_shows(
        refused,
        &["www-authenticate", "content-type", "content-length"],
    )
    .await;
    let at = api.trim_start_matches("http://");
    let shown =
        format!("$ curl -i localhost:6001/identity\n{refused}").replace(at, "localhost:6001");
    generated("quickstart-api.txt", &shown);

    let client = example("client");
    let args = [
        "--authority".to_owned(),
        authority.clone(),
        "--api".to_owned(),
        format!("{api}/identity"),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(client)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    let shown = sample_client_shows(&stdout).replace(&authority, "http://localhost:5001");
    generated("quickstart-client.txt", &shown);
}
