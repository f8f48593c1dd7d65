//! The bound tokens page's curl outputs come from a run: the page's own
//! file (its `toml` block, the hashes it elides made from the secrets its
//! comments name) served by the real binary, and the page's requests sent
//! as curl sends them, and the sample client with `--dpop` and its token
//! at the sample API. Compared with docs/src/generated/ as in
//! handbook.rs; tokens are cut short with `…`.

use crate::handbook_logs::free_port;
use crate::support::{basic, example, hash, start_logged_at, start_process};
use crate::support::{generated, root, shorten};

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

/// `"name":123` in a line of JSON with the number `…`.
fn number_shortened(line: &str, name: &str) -> String {
    let start = format!("\"{name}\":");
    let Some(at) = line.find(&start) else {
        return line.to_owned();
    };
    let from = at + start.len();
    let to = from + line[from..].find([',', '}']).unwrap();
    format!("{}…{}", &line[..from], &line[to..])
}

/// A line of JSON claims with what differs per run `…`.
fn claims_shown(line: &str) -> String {
    let mut line = shorten(line, "jti", 0);
    for name in ["iat", "nbf", "exp"] {
        line = number_shortened(&line, name);
    }
    line
}

/// The payload of a JWT in the answer `body`, as the token has it.
fn payload(body: &str) -> String {
    use base64::Engine as _;
    let answer: serde_json::Value = serde_json::from_str(body).unwrap();
    let token = answer["access_token"].as_str().unwrap();
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// The access token in a line `curl` printed (its second line).
fn answer_of(shown: &str) -> &str {
    shown.lines().nth(1).unwrap()
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
    let without = curl(port, client, None, &[grant]).await;
    let claims = format!(
        "{}\n{}\n",
        claims_shown(&payload(answer_of(&token))),
        claims_shown(&payload(answer_of(&without)))
    )
    .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:5011");
    generated("bound-resource-claims.json", &claims);
    // Introspection by the API, its name and secret in the body.
    let access: serde_json::Value = serde_json::from_str(answer_of(&token)).unwrap();
    let mut introspected = String::new();
    for (shown, sent) in [
        ("$TOKEN", access["access_token"].as_str().unwrap()),
        ("garbage", "garbage"),
    ] {
        let body = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/connect/introspect"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "client_id=https%3A%2F%2Forders.example.com&client_secret=orders-secret&token={sent}"
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        introspected.push_str(&format!(
            "$ curl -s --data-urlencode client_id=https://orders.example.com -d client_secret=orders-secret -d token={shown} localhost:5011/connect/introspect\n{}\n",
            claims_shown(&body)
        ));
    }
    generated(
        "bound-introspection.txt",
        &introspected.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:5011"),
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

    // The sample client with --dpop, then its token without the DPoP
    // scheme and without a proof.
    let issuer = format!("http://127.0.0.1:{port}");
    let (_api, api) = start_process(
        &example("api"),
        &["--authority", &issuer, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let identity = format!("{api}/identity");
    let out = std::process::Command::new(example("client"))
        .args(["--authority", &issuer, "--api", &identity, "--dpop"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let printed: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<serde_json::Value>()
        .map(Result::unwrap)
        .collect();
    let [response, claims] = printed.as_slice() else {
        panic!("{stdout}")
    };
    let token = response["access_token"].as_str().unwrap().to_owned();
    let mut response = response.clone();
    response["access_token"] = format!("{}…", &token[..20]).into();
    // The claims that tell a bound token: the key's thumbprint is the run's.
    let mut lines = Vec::new();
    for claim in claims.as_array().unwrap() {
        let kind = claim["type"].as_str().unwrap();
        let value = match kind {
            "aud" | "client_id" => claim["value"].clone(),
            "cnf" => {
                let cnf: serde_json::Value =
                    serde_json::from_str(claim["value"].as_str().unwrap()).unwrap();
                assert!(cnf["jkt"].is_string(), "{cnf}");
                "{\"jkt\":\"…\"}".into()
            }
            _ => continue,
        };
        lines.push(format!("  {{ \"type\": \"{kind}\", \"value\": {value} }}"));
    }
    assert_eq!(lines.len(), 3, "{stdout}");
    let shown = format!(
        "$ cargo run --release --example client -- --authority {issuer} --api {identity} --dpop\n\
         {}\n[\n{},\n  …\n]\n",
        serde_json::to_string_pretty(&response).unwrap(),
        lines.join(",\n")
    );
    let shown = shown
        .replace(&api, "http://127.0.0.1:6011")
        .replace(&issuer, "http://127.0.0.1:5011");
    generated("bound-dpop-client.txt", &shown);
    let mut refused = String::new();
    for scheme in ["Bearer", "DPoP"] {
        let answer = reqwest::Client::new()
            .get(&identity)
            .header("Authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let challenge = answer.headers()["www-authenticate"].to_str().unwrap();
        refused.push_str(&format!(
            "$ curl -si -H \"Authorization: {scheme} $TOKEN\" localhost:6011/identity\n\
             HTTP/1.1 {status}\nwww-authenticate: {challenge}\n…\n"
        ));
    }
    generated("bound-dpop-api.txt", &refused);
    let log = server.stop();
    assert!(log.contains("listening on"), "{log}");
}
