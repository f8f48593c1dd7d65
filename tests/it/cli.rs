//! The command line: hash-secret, check, schema.

use std::io::Write;
use std::process::{Command, Stdio};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordVerifier};

use crate::support::{quickstart_toml, tollgate_bin};

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    run_env(args, stdin, &[])
}

fn run_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = Command::new(tollgate_bin())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn verifies(secret: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(secret.as_bytes(), &PasswordHash::new(phc).unwrap())
        .is_ok()
}

#[test]
fn hash_secret_reads_the_first_line_of_stdin_and_prints_an_argon2id_hash() {
    let (code, out, _) = run(&["hash-secret"], "s3cret\nignored\n");
    assert_eq!(code, 0);
    let phc = out.trim();
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
    assert!(verifies("s3cret", phc));
    assert!(!verifies("s3cret\n", phc));
}

#[test]
fn hash_secret_refuses_an_empty_secret() {
    let (code, _, err) = run(&["hash-secret"], "\n");
    assert_eq!(code, 1);
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn hash_secret_generate_makes_a_strong_unreserved_secret_and_its_hash() {
    let (code, out, _) = run(&["hash-secret", "--generate"], "");
    assert_eq!(code, 0);
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .trim();
    let phc = out
        .lines()
        .find_map(|l| l.strip_prefix("hash:"))
        .unwrap()
        .trim();
    assert_eq!(secret.len(), 32);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(verifies(secret, phc));
    let (_, again, _) = run(&["hash-secret", "--generate"], "");
    assert_ne!(out, again);
}

#[test]
fn check_exits_0_for_a_good_file_1_for_a_bad_one_and_2_for_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, quickstart_toml()).unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"nope\"]\n",
    )
    .unwrap();
    let (code, _, _) = run(&["check", "--config", good.to_str().unwrap()], "");
    assert_eq!(code, 0);
    let (code, _, err) = run(&["check", "--config", bad.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.toml:3:19: clients[0].allowed_scopes[0]: scope nope is not declared"),
        "{err}"
    );
    let (code, _, _) = run(
        &[
            "check",
            "--config",
            dir.path().join("none.toml").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 2);
}

#[test]
fn the_committed_schema_is_what_tollgate_schema_prints() {
    let (code, out, _) = run(&["schema"], "");
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/identity.schema.json"
    ))
    .unwrap();
    assert_eq!(
        out.trim_end(),
        committed.trim_end(),
        "schemas/identity.schema.json is stale: run `cargo run -- schema > schemas/identity.schema.json`"
    );
}

#[test]
fn the_committed_included_file_schema_is_what_tollgate_schema_included_prints() {
    let (code, out, _) = run(&["schema", "--included"], "");
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/included.schema.json"
    ))
    .unwrap();
    assert_eq!(
        out.trim_end(),
        committed.trim_end(),
        "schemas/included.schema.json is stale: run `cargo run -- schema --included > schemas/included.schema.json`"
    );
}

#[test]
fn check_speaks_json_for_pipelines() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "colour = 1\n[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"nope\"]\n",
    )
    .unwrap();
    let (code, out, _) = run(
        &[
            "check",
            "--config",
            bad.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"][0]["key_path"], "colour");
    assert_eq!(report["errors"][0]["line"], 1);
    assert_eq!(report["errors"][0]["file"], bad.to_str().unwrap());
    assert!(report["errors"][0]["hint"].is_string());
}

#[test]
fn environment_variables_override_the_file_and_check_says_where_values_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("identity.toml");
    std::fs::write(
        &file,
        format!("issuer = \"https://file.example\"\n{}", quickstart_toml()),
    )
    .unwrap();
    let env = [
        ("TOLLGATE_ISSUER", "https://env.example"),
        ("TOLLGATE_SERVER__LISTEN", "0.0.0.0:7000"),
    ];
    let (code, out, err) = run_env(
        &["check", "--config", file.to_str().unwrap(), "--show-origin"],
        "",
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("issuer = \"https://env.example\"  (environment TOLLGATE_ISSUER)"),
        "{out}"
    );
    assert!(
        out.contains("server.listen = \"0.0.0.0:7000\"  (environment TOLLGATE_SERVER__LISTEN)"),
        "{out}"
    );
    assert!(out.contains("keys.dir"), "{out}");
    assert!(
        out.contains("replay.store = \"memory\"  (default)"),
        "{out}"
    );
    assert!(out.contains("server.management_listen"), "{out}");
    assert!(out.contains("(default)"), "{out}");
    // A bad override is reported by its variable, not a line.
    let (code, _, err) = run_env(
        &["check", "--config", file.to_str().unwrap()],
        "",
        &[("TOLLGATE_ISSUER", "ftp://x")],
    );
    assert_eq!(code, 1);
    assert!(err.contains("issuer: the issuer must be an http or https URL (set by environment variable TOLLGATE_ISSUER)"), "{err}");
    // TOLLGATE_LOG is the log filter, not a setting.
    let (code, _, err) = run_env(
        &["check", "--config", file.to_str().unwrap()],
        "",
        &[("TOLLGATE_LOG", "debug")],
    );
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn healthcheck_exits_0_for_a_healthy_server_and_1_otherwise() {
    let server = crate::support::TestServer::spawn(&quickstart_toml()).await;
    let run = |url: String| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(tollgate_bin())
                .args(["healthcheck", "--url", &url])
                .output()
                .unwrap()
        })
    };
    let ok = run(server.url("/healthz")).await.unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let missing = run(server.url("/nope")).await.unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
    drop(server);
    let closed = run("http://127.0.0.1:9/healthz".into()).await.unwrap();
    assert_eq!(closed.status.code(), Some(1));
}

#[test]
fn a_duration_is_numbers_with_units_s_m_h_d_and_check_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("identity.toml");
    for (value, message) in [
        ("\"1 hour\"", "\"1 hour\" is not a duration"),
        ("\"2months\"", "\"2months\" is not a duration"),
        ("true", "expected a duration, found true"),
        ("0", "a duration must be longer than zero"),
    ] {
        std::fs::write(
            &file,
            format!("[keys]\nrotate_every = {value}\n{}", quickstart_toml()),
        )
        .unwrap();
        let (code, _, err) = run(&["check", "--config", file.to_str().unwrap()], "");
        assert_eq!(code, 1, "{value}: {err}");
        assert!(err.contains("keys.rotate_every"), "{value}: {err}");
        assert!(err.contains(message), "{value}: {err}");
        assert!(
            err.contains("s, m, h or d") && err.contains("\"1h30m\""),
            "{value}: the accepted forms are named: {err}"
        );
    }
    std::fs::write(
        &file,
        format!("[keys]\nrotate_every = \"89d24h\"\n{}", quickstart_toml()),
    )
    .unwrap();
    let (code, _, err) = run(&["check", "--config", file.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn serve_on_another_port_than_a_loopback_issuer_warns_and_an_unset_issuer_follows_the_listener()
 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("identity.toml");
    // The quickstart's issuer, served on another (ephemeral) port.
    std::fs::write(
        &file,
        format!("issuer = \"http://localhost:5001\"\n{}", quickstart_toml()),
    )
    .unwrap();
    let server = crate::support::start_logged(&file, "info", &[]).await;
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("the issuer names port 5001 of this machine")
            && log.contains("TOLLGATE_ISSUER")
            && log.contains(&format!("http://{}", server.addr)),
        "{log}"
    );
    drop(server);
    // A public issuer: no warning (a proxy may listen elsewhere).
    std::fs::write(
        &file,
        format!(
            "issuer = \"https://auth.example.com\"\n{}",
            quickstart_toml()
        ),
    )
    .unwrap();
    let server = crate::support::start_logged(&file, "info", &[]).await;
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains("the issuer names port"), "{log}");
    drop(server);
    // No issuer: the listen address is the issuer, so discovery's
    // endpoints are where the server is.
    std::fs::write(&file, quickstart_toml()).unwrap();
    let server = crate::support::start_logged(&file, "info", &[]).await;
    let discovery: serde_json::Value = reqwest::get(format!(
        "http://{}/.well-known/openid-configuration",
        server.addr
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        discovery["token_endpoint"],
        format!("http://{}/connect/token", server.addr)
    );
}

#[test]
fn tollgate_config_is_the_environment_form_of_config_and_no_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("team.toml");
    std::fs::write(&file, quickstart_toml()).unwrap();
    let env = [("TOLLGATE_CONFIG", file.to_str().unwrap())];
    // Run elsewhere: without the variable `check` would look for
    // ./identity.toml there.
    let (code, out, err) = run_env(&["check"], "", &env);
    assert_eq!(code, 0, "not refused as an unknown key `config`: {err}");
    assert!(out.contains("team.toml: ok"), "{out}");
    let (code, out, err) = run_env(&["clients", "list"], "", &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("client"), "{out}");
    // --config wins over the variable.
    let missing = dir.path().join("missing.toml");
    let (code, _, err) = run_env(&["check", "--config", missing.to_str().unwrap()], "", &env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.toml"), "{err}");
    // `serve`, and `tollgate` alone, read it too (run in a folder without
    // identity.toml, so that neither serves one).
    for args in [&["serve"][..], &[]] {
        let out = Command::new(tollgate_bin())
            .args(args)
            .current_dir(dir.path())
            .env("TOLLGATE_CONFIG", &missing)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("missing.toml"), "{args:?}: {err}");
    }
}

#[test]
fn help_is_coloured_on_a_terminal_unless_no_color() {
    // A pipe is no terminal: no colours.
    let (code, out, _) = run(&["check", "--help"], "");
    assert_eq!(code, 0);
    assert!(!out.contains('\x1b'), "{out}");
    // What a terminal gets (CLICOLOR_FORCE stands in for one here).
    let (_, out, _) = run_env(&["check", "--help"], "", &[("CLICOLOR_FORCE", "1")]);
    assert!(out.contains("\x1b[") && out.contains("--config"), "{out}");
    let (_, out, _) = run_env(
        &["check", "--help"],
        "",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!out.contains('\x1b'), "NO_COLOR wins: {out}");
    // Errors too.
    let (code, _, err) = run_env(&["chek"], "", &[("CLICOLOR_FORCE", "1")]);
    assert_eq!(code, 2);
    assert!(err.contains("\x1b["), "{err}");
}

/// Without an issuer in the file, `check --show-origin` names the one
/// `serve` uses: https when the file serves TLS.
#[test]
fn show_origin_names_the_issuer_serve_uses_https_with_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = crate::support::server_pair();
    std::fs::write(dir.path().join("server.pem"), cert).unwrap();
    std::fs::write(dir.path().join("server.key"), key).unwrap();
    let file = dir.path().join("identity.toml");
    std::fs::write(
        &file,
        format!(
            "[server]\nlisten = \"127.0.0.1:5443\"\n[server.tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n{}",
            quickstart_toml()
        ),
    )
    .unwrap();
    let (code, out, err) = run_env(
        &["check", "--config", file.to_str().unwrap(), "--show-origin"],
        "",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("issuer = \"https://127.0.0.1:5443 (from the listen address)\""),
        "{out}"
    );
}
