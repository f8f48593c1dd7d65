//! identity.toml validation: every broken rule reported with its key path
//! and line.

use std::path::Path;

use tollgate::{Config, ConfigError};

use crate::support::{hash, now, quickstart_toml};

fn problems(toml: &str) -> Vec<(String, Option<usize>, String)> {
    match Config::from_toml(toml, Path::new("identity.toml"), now()) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| (p.key_path.clone(), p.line, p.message.clone()))
            .collect(),
    }
}

#[test]
fn the_shipped_identity_toml_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("identity.toml");
    let config = Config::load(&path, now()).unwrap();
    assert_eq!(config.issuer.as_deref(), Some("http://localhost:5001"));
    assert!(config.registry.client("client").is_some());
}

/// The MCP page's step: the quickstart's file with one `include` line
/// under `issuer` takes examples/clients.d/mcp.toml. The file at the
/// repository's root is the reader's: they may have made the page's edit
/// already, and `cargo test` must pass after it.
#[test]
fn the_shipped_identity_toml_takes_the_mcp_page_s_file_with_one_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(root.join("identity.toml")).unwrap();
    let once = with_the_mcp_line(&shipped);
    assert!(once.contains(MCP_LINE), "no issuer line to put it under");
    // Made twice (the reader did, then the test): the same file.
    assert_eq!(with_the_mcp_line(&once), once);
    // The repository's layout, in a folder of its own.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("examples/clients.d")).unwrap();
    std::fs::copy(
        root.join("examples/clients.d/mcp.toml"),
        dir.path().join("examples/clients.d/mcp.toml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("identity.toml"), once).unwrap();
    let config = Config::load(&dir.path().join("identity.toml"), now()).unwrap();
    assert!(config.registry.client("client").is_some());
    assert!(config.registry.client("mcp-agent").is_some());
}

/// The line the MCP page adds under `issuer`.
const MCP_LINE: &str = "include = [\"examples/clients.d/mcp.toml\"]\n";

/// `text` with the MCP page's line under `issuer`, unless it has it.
fn with_the_mcp_line(text: &str) -> String {
    if text.contains(MCP_LINE) {
        return text.to_owned();
    }
    let issuer = "issuer = \"http://localhost:5001\"\n";
    text.replacen(issuer, &format!("{issuer}{MCP_LINE}"), 1)
}

#[test]
fn broken_files_name_the_key_and_the_line() {
    let h = hash("secret");
    // (file, key path, line, words in the message)
    let cases: Vec<(String, &str, usize, &str)> = vec![
        ("issuer = 5\n".into(), "issuer", 1, "expected a string, found the number 5"),
        ("[server]\nlisten = \"x\"\nport = 1\n".into(), "server.port", 3, "unknown key"),
        ("colour = \"red\"\n".into(), "colour", 1, "unknown key"),
        ("issuer = \"ftp://x\"\n".into(), "issuer", 1, "http"),
        ("[server]\nlisten = \"localhost\"\n".into(), "server.listen", 2, "IP:PORT"),
        ("[[api_scopes]]\nname = \"a b\"\n".into(), "api_scopes[0].name", 2, "RFC 6749"),
        ("[[api_scopes]]\nname = \"a\"\n[[api_scopes]]\nname = \"a\"\n".into(), "api_scopes[1].name", 4, "twice"),
        (
            "[[api_scopes]]\nname = \"a\"\n[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"a\", \"b\"]\n".into(),
            "clients[0].allowed_scopes[1]",
            5,
            "not declared",
        ),
        ("[[api_resources]]\nname = \"r\"\nscopes = [\"zz\"]\n".into(), "api_resources[0].scopes[0]", 3, "not declared"),
        (
            "[[clients]]\nclient_id = \"c\"\n[[clients]]\nclient_id = \"c\"\n".into(),
            "clients[1].client_id",
            4,
            "earlier client",
        ),
        (
            "[[clients]]\nclient_id = \"c\"\n[[clients.secrets]]\nhash = \"secret\"\n".into(),
            "clients[0].secrets[0].hash",
            4,
            "plaintext",
        ),
        (
            "[[clients]]\nclient_id = \"c\"\n[[clients.secrets]]\nhash = \"$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$8k8T9Vn6RlUOyyEbYOWMmg\"\n".into(),
            "clients[0].secrets[0].hash",
            4,
            "argon2id",
        ),
        (
            format!("[[clients]]\nclient_id = \"c\"\n[[clients.secrets]]\nhash = \"{h}\"\nexpires = 2027-01-01T00:00:00\n"),
            "clients[0].secrets[0].expires",
            5,
            "offset",
        ),
        ("[[clients]]\nclient_id = \"c\"\nclaims = { sub = \"x\" }\n".into(), "clients[0].claims.sub", 3, "set by tollgate"),
        ("[[clients]]\nclient_id = \"c\"\naccess_token_lifetime = \"soon\"\n".into(), "clients[0].access_token_lifetime", 3, "duration"),
        ("[[clients]]\nclient_id = \"c\"\nallowed_grant_types = [\"password\"]\n".into(), "clients[0].allowed_grant_types[0]", 3, "not supported"),
        ("[[clients]]\nclient_id = \"\"\n".into(), "clients[0].client_id", 2, "empty"),
        ("[keys]\nalgorithm = \"HS256\"\n".into(), "keys.algorithm", 2, "must be one of \"ES256\""),
        ("[[clients]\n".into(), "", 1, ""),
    ];
    for (toml, path, line, words) in cases {
        let found = problems(&toml);
        assert!(
            found
                .iter()
                .any(|(p, l, m)| p == path && *l == Some(line) && m.contains(words)),
            "expected {path} at line {line} with {words:?} for\n{toml}\ngot {found:?}"
        );
    }
}

#[test]
fn every_meaning_problem_is_reported_at_once() {
    let toml = "[[api_scopes]]\nname = \"a\"\n[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"x\"]\nclaims = { iss = 1 }\n[[clients.secrets]]\nhash = \"plain\"\n";
    let found = problems(toml);
    let paths: Vec<_> = found.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "clients[0].allowed_scopes[0]",
            "clients[0].claims.iss",
            "clients[0].secrets[0].hash"
        ]
    );
}

#[test]
fn problems_print_like_compiler_errors_with_hints() {
    let toml = "[[clients]]\nclient_id = \"c\"\n[[clients.secrets]]\nhash = \"secret\"\n";
    let err = Config::from_toml(toml, Path::new("conf/identity.toml"), now()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "conf/identity.toml:4:1: clients[0].secrets[0].hash: this looks like a plaintext secret"
        ),
        "{text}"
    );
    assert!(text.contains("hint: run `tollgate hash-secret`"), "{text}");
    assert!(
        !text.contains("\"secret\""),
        "the secret itself is not echoed: {text}"
    );
}

#[test]
fn an_unreadable_file_is_its_own_error() {
    let err = Config::load(Path::new("/nonexistent/identity.toml"), now()).unwrap_err();
    assert!(matches!(err, ConfigError::Unreadable { .. }));
}

#[test]
fn defaults_fill_what_the_file_leaves_out() {
    let config = Config::from_toml(
        &quickstart_toml(),
        Path::new("/etc/tollgate/identity.toml"),
        now(),
    )
    .unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:5001");
    let tollgate::KeyMode::Automatic { dir, rotation } = &config.keys.mode else {
        panic!("automatic keys by default");
    };
    assert_eq!(dir, Path::new("/etc/tollgate/keys"));
    assert_eq!(rotation.rotate_every.as_secs(), 90 * 86_400);
    assert_eq!(rotation.announce.as_secs(), 14 * 86_400);
    assert_eq!(rotation.retain.as_secs(), 14 * 86_400);
    assert_eq!(config.keys.jwks_max_age.as_secs(), 3600);
    let client = config.registry.client("client").unwrap();
    assert!(client.enabled);
    assert_eq!(client.access_token_lifetime.as_secs(), 3600);
    assert_eq!(
        client.grant_types,
        [tollgate_core::GrantType::ClientCredentials]
    );
}

#[test]
fn every_shape_problem_is_reported_at_once_with_did_you_mean_hints() {
    let toml = "isuer = \"https://x\"\n[server]\nlisten = 5001\n[[clients]]\nclient_id = \"c\"\nallowed_scope = [\"a\"]\n[[clients.secrets]]\nsecret = \"s\"\n";
    let err = Config::from_toml(toml, Path::new("identity.toml"), now()).unwrap_err();
    let found: Vec<_> = err
        .problems()
        .iter()
        .map(|p| {
            (
                p.key_path.as_str(),
                p.line,
                p.hint.clone().unwrap_or_default(),
            )
        })
        .collect();
    let has = |path: &str, line: usize, hint: &str| {
        found
            .iter()
            .any(|(p, l, h)| *p == path && *l == Some(line) && h.contains(hint))
    };
    assert!(has("isuer", 1, "did you mean `issuer`?"), "{found:?}");
    assert!(has("server.listen", 3, ""), "{found:?}");
    assert!(
        has(
            "clients[0].allowed_scope",
            6,
            "did you mean `allowed_scopes`?"
        ),
        "{found:?}"
    );
    assert!(
        has("clients[0].secrets[0].secret", 8, "hash-secret"),
        "{found:?}"
    );
    assert!(
        has("clients[0].secrets[0]", 7, ""),
        "the missing hash: {found:?}"
    );
}

#[test]
fn warnings_flag_expiring_secrets_and_a_missing_issuer() {
    use time::macros::datetime;
    let h = hash("secret");
    let toml = format!(
        "[[api_scopes]]\nname = \"a\"\n[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"a\"]\n\
         [[clients.secrets]]\nhash = \"{h}\"\nexpires = 2026-12-01T00:00:00Z\n"
    );
    let now = datetime!(2026-11-25 00:00 UTC);
    let report = tollgate::check(
        &toml,
        Path::new("identity.toml"),
        tollgate::Overrides::None,
        now,
    );
    assert!(report.config.is_some() && report.errors.is_empty());
    let messages: Vec<_> = report
        .warnings
        .iter()
        .map(|w| (w.key_path.as_str(), w.line, w.message.as_str()))
        .collect();
    assert!(
        messages
            .iter()
            .any(|(p, _, m)| *p == "issuer" && m.contains("no issuer")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(p, l, m)| *p == "clients[0].secrets[0].expires"
                && *l == Some(8)
                && m.contains("expires in 6 days")),
        "{messages:?}"
    );
    let later = datetime!(2026-12-02 00:00 UTC);
    let report = tollgate::check(
        &toml,
        Path::new("identity.toml"),
        tollgate::Overrides::None,
        later,
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.message.contains("no valid secret")),
        "expired: {:?}",
        report.warnings
    );
    // Mid-rotation: a newer secret without expiry, so the old one's end
    // is intended and not warned about.
    let rotating = format!("{toml}[[clients.secrets]]\nhash = \"{h}\"\n");
    let report = tollgate::check(
        &rotating,
        Path::new("identity.toml"),
        tollgate::Overrides::None,
        now,
    );
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.message.contains("expires in")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn ten_thousand_clients_load_well_under_a_second() {
    let h = hash("secret");
    let mut toml = String::from("[[api_scopes]]\nname = \"api1\"\n");
    for i in 0..10_000 {
        toml += &format!(
            "[[clients]]\nclient_id = \"c{i}\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{h}\"\n"
        );
    }
    let started = std::time::Instant::now();
    let config = Config::from_toml(&toml, Path::new("identity.toml"), now()).unwrap();
    let took = started.elapsed();
    assert_eq!(config.registry.clients().count(), 10_000);
    // Generous for an unoptimized test build on a busy machine; the
    // release figure is in the README.
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    eprintln!("10,000 clients validated in {took:?} (debug build)");
}

#[test]
fn inputs_found_by_fuzzing_give_problems_not_panics() {
    // toml_edit 0.23 panicked on this while locating a syntax error.
    let text = include_str!("../../fuzz/seeds/config/regression-toml-edit-span-panic.toml");
    let err = Config::from_toml(text, Path::new("identity.toml"), now()).unwrap_err();
    assert_eq!(err.problems()[0].line, Some(1));
}
