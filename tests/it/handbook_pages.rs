//! The observe and workloads pages' sample outputs come from runs of the
//! real binary with the shipped file: metrics, `/healthz` and JSON audit
//! lines after four token requests, and the `private_key_jwt`
//! walkthrough. Compared with docs/src/generated/ as in handbook.rs;
//! what differs per run is `…`.

use crate::handbook_logs::{log_line, quickstart_file};
use crate::support::{example, start_logged_at, start_process};
use crate::support::{generated, sample_client_shows, shorten};

/// The observe page's requests: a token, a wrong secret, an unknown
/// client, a bad scope (this one with the caller's `X-Request-Id`).
async fn four_token_requests(addr: &str) {
    let http = reqwest::Client::new();
    let asks = [
        ("client", "secret", "", 200),
        ("client", "wrong", "", 401),
        ("nobody", "secret", "", 401),
        ("client", "secret", "&scope=api2", 400),
    ];
    for (id, secret, scope, status) in asks {
        let mut request = http
            .post(format!("http://{addr}/connect/token"))
            .header("Authorization", crate::support::basic(id, secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials{scope}"));
        if !scope.is_empty() {
            request = request.header("X-Request-Id", "abc-1");
        }
        assert_eq!(request.send().await.unwrap().status(), status);
    }
}

/// The lines of a metrics text that start with one of `names`, sorted
/// (the order of a family's series is not the page's to rely on).
fn metric_lines(text: &str, names: &[&str]) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| names.iter().any(|n| l.starts_with(n)))
        .collect();
    lines.sort_unstable();
    format!("{}\n…\n", lines.join("\n"))
}

/// `/healthz` with what differs per run (times, key ids, the file's
/// digest) as `…`.
fn health_shown(mut health: serde_json::Value) -> String {
    for (section, name) in [
        ("config", "loaded_at"),
        ("config", "sha256"),
        ("keys", "active_kid"),
        ("keys", "rotates_at"),
    ] {
        assert!(health[section][name].is_string(), "{health}");
        health[section][name] = "…".into();
    }
    let published = health["keys"]["published"].as_array_mut().unwrap();
    for kid in published.iter_mut() {
        *kid = "…".into();
    }
    crate::support::one_member_a_line(&health)
}

/// The observe page: the public metrics of the shipped file's server,
/// then, with a management listener and JSON logs, its full metrics,
/// `/healthz` and audit lines, each after the same four token requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observe_page_shows_the_metrics_health_and_audit_of_a_run() {
    let families = [
        "tollgate_tokens_issued_total",
        "tollgate_client_auth_failures_total",
        "tollgate_token_errors_total",
    ];
    let public_dir = tempfile::tempdir().unwrap();
    let (file, port) = quickstart_file(public_dir.path(), "");
    let mut public = start_logged_at(&file, "info", &format!("127.0.0.1:{port}"), &[], &[]).await;
    four_token_requests(&public.addr).await;
    let metrics = reqwest::get(format!("http://{}/metrics", public.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    public.stop();
    generated(
        "observe-public-metrics.txt",
        &metric_lines(&metrics, &families),
    );

    let dir = tempfile::tempdir().unwrap();
    let (file, port) = quickstart_file(dir.path(), "management_listen = \"127.0.0.1:0\"\n");
    let mut server = start_logged_at(
        &file,
        "info",
        &format!("127.0.0.1:{port}"),
        &["--log-format", "json"],
        &[],
    )
    .await;
    let management = server.management.clone().expect("a management listener");
    four_token_requests(&server.addr).await;
    let metrics = reqwest::get(format!("http://{management}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let health: serde_json::Value = reqwest::get(format!("http://{management}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.logged("abc-1").await;
    let log = server.stop();
    let full: Vec<&str> = families
        .iter()
        .copied()
        .chain([
            "tollgate_requests_in_flight",
            "tollgate_config_generation",
            "tollgate_config_last_reload_success",
            "tollgate_config_reload_failures_total",
            "tollgate_secret_cache_entries",
            "tollgate_signing_keys_published",
            "tollgate_signing_key_fault",
            "tollgate_replay_store_up",
            "tollgate_argon2_verifications_total",
            "tollgate_secret_cache_hits_total",
            "tollgate_certificate_chain_verifications_total",
        ])
        .collect();
    generated("observe-full-metrics.txt", &metric_lines(&metrics, &full));
    generated("observe-health.json", &health_shown(health));

    let audit: Vec<String> = log
        .lines()
        .filter(|l| l.contains("\"target\":\"tollgate::audit\""))
        // The line as written (its fields in the server's order), what
        // differs per run shortened.
        .map(|l| {
            let l = shorten(l, "timestamp", 0);
            let l = shorten(&l, "jti", 0);
            if l.contains("\"id\":\"abc-1\"") {
                l
            } else {
                shorten(&l, "id", 0)
            }
        })
        .collect();
    assert_eq!(audit.len(), 4, "{log}");
    generated("observe-audit.json", &(audit.join("\n") + "\n"));
}

/// `name = "value"` in a line of TOML with the value `…`, every one.
fn toml_values_shortened(line: &str, names: &[&str]) -> String {
    let mut line = line.to_owned();
    for name in names {
        let start = format!(" {name} = \"");
        if let Some(at) = line.find(&start) {
            let from = at + start.len();
            let to = from + line[from..].find('"').unwrap();
            line = format!("{}…{}", &line[..from], &line[to..]);
        }
    }
    line
}

/// The workloads page's `private_key_jwt` walkthrough, in a folder with
/// the shipped file: `tollgate keys client`, `tollgate clients add`, the
/// `jwks` line pasted into the new entry, then the sample client with the
/// key, and the server's audit line of its token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workloads_page_s_key_walkthrough_prints_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (file, port) = quickstart_file(dir.path(), "");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(crate::support::tollgate_bin())
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        // What the reader sees: the command, what it printed.
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (format!("$ tollgate {}\n", args.join(" ")), printed)
    };
    let (keys_command, keys_printed) = run(&["keys", "client", "--out", "reports.pem"]);
    let jwks = keys_printed
        .lines()
        .find(|l| l.starts_with("jwks = "))
        .unwrap()
        .to_owned();
    let (add_command, add_printed) = run(&[
        "clients",
        "add",
        "reports",
        "--scope",
        "api1",
        "--no-secret",
    ]);
    let mut text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.ends_with("client_id = \"reports\"\nallowed_scopes = [\"api1\"]\n"),
        "{text}"
    );
    text.push_str(&format!("{jwks}\n"));
    std::fs::write(&file, text).unwrap();
    let keys_printed: String = keys_printed
        .lines()
        .map(|l| toml_values_shortened(l, &["kid", "x", "y"]) + "\n")
        .collect();
    generated(
        "workloads-keys.txt",
        &format!("{keys_command}{keys_printed}{add_command}{add_printed}"),
    );

    let mut server = start_logged_at(&file, "info", &format!("127.0.0.1:{port}"), &[], &[]).await;
    let authority = format!("http://localhost:{port}");
    let (_api, api) = start_process(
        &example("api"),
        &["--authority", &authority, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let key = dir.path().join("reports.pem");
    let out = std::process::Command::new(example("client"))
        .args(["--authority", &authority, "--api"])
        .arg(format!("{api}/identity"))
        .arg("--private-key")
        .arg(&key)
        .args(["--client-id", "reports"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{out:?}");
    server.logged("token issued").await;
    // A replayed assertion: one signed with the key, sent twice.
    let kid = jwks
        .split("kid = \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let now = crate::support::now().unix_timestamp();
    let claims = serde_json::json!({
        "iss": "reports", "sub": "reports", "aud": authority,
        "iat": now, "exp": now + 60, "jti": "the-page-s-replay",
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    let signing = jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(&key).unwrap()).unwrap();
    let assertion = jsonwebtoken::encode(&header, &claims, &signing).unwrap();
    for status in [200, 401] {
        let answer = reqwest::Client::new()
            .post(format!("{authority}/connect/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(crate::support::assertion_form(&assertion))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status);
    }
    server.logged("reason=\"replayed\"").await;
    let log = server.stop();
    let shown = format!(
        "$ cargo run --release --example client -- --private-key reports.pem --client-id reports\n{}",
        sample_client_shows(&stdout)
    )
    .replace(&authority, "http://localhost:5001");
    generated("workloads-client.txt", &shown);
    let issued = log
        .lines()
        .find(|l| l.contains("tollgate::audit: token issued"))
        .map(|l| log_line(l, &["id", "jti"]))
        .unwrap_or_else(|| panic!("{log}"));
    generated("workloads-audit.txt", &format!("{issued}\n"));
    // The replay's two lines follow the sample client's.
    let replay: Vec<String> = log
        .lines()
        .filter(|l| l.contains("tollgate::audit: token "))
        .skip(1)
        .map(|l| log_line(l, &["id", "jti"]))
        .collect();
    assert_eq!(replay.len(), 2, "{log}");
    generated("workloads-replay.txt", &(replay.join("\n") + "\n"));
}
