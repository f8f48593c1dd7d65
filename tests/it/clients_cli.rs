//! `tollgate clients add | rotate-secret | list | remove` and `tollgate
//! diff`, as processes, on files a server is serving.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::{TestServer, basic, eventually, hash, tollgate_bin};

fn tollgate(args: &[&str], config: &Path) -> (i32, String, String) {
    let out = Command::new(tollgate_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn secret_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .expect("a secret: line")
        .to_owned()
}

/// Whether `after` is `before` with one run of bytes inserted.
fn inserted_only(before: &str, after: &str) -> bool {
    let (b, a) = (before.as_bytes(), after.as_bytes());
    let prefix = b.iter().zip(a).take_while(|(x, y)| x == y).count();
    let suffix = b[prefix..]
        .iter()
        .rev()
        .zip(a[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    prefix + suffix == b.len()
}

const COMMENTED: &str = "# Our identity server.\nissuer = \"http://localhost:5001\"   # public URL\n\n[[api_scopes]]\nname = \"api1\"\n\n# The quickstart client.\n[[clients]]\nclient_id = \"client\"\nallowed_scopes = [\"api1\"]\n";

async fn token_status(server: &TestServer, id: &str, secret: &str) -> u16 {
    server
        .token_raw("grant_type=client_credentials", Some(&basic(id, secret)))
        .await
        .status()
        .as_u16()
}

async fn eventually_status(server: &TestServer, id: &str, secret: &str, expected: u16) {
    let (http, url) = (server.http.clone(), server.url("/connect/token"));
    let auth = basic(id, secret);
    eventually(Duration::from_secs(15), "the reload", || {
        let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
        async move {
            let r = http
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", auth)
                .body("grant_type=client_credentials")
                .send()
                .await
                .ok()?;
            (r.status().as_u16() == expected).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn clients_add_rotate_list_and_remove_keep_the_file_and_a_serving_server_follows() {
    // Polling for a reload sends secrets the server does not know yet:
    // no throttling here.
    let toml = format!(
        "{COMMENTED}\n[[clients.secrets]]\nhash = \"{}\"\n\n[throttle]\nclient_failures = 0\naddress_failures = 0\n",
        hash("secret")
    );
    let server = TestServer::spawn(&toml).await;
    let file = server.dir.path().join("identity.toml");
    let before = std::fs::read_to_string(&file).unwrap();

    let (code, out, err) = tollgate(
        &[
            "clients",
            "add",
            "billing",
            "--scope",
            "api1",
            "--lifetime",
            "15m",
        ],
        &file,
    );
    assert_eq!(code, 0, "{err}");
    let secret = secret_of(&out);
    assert_eq!(secret.len(), 32);
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        inserted_only(&before, &after),
        "every other byte kept:\n{after}"
    );
    assert!(!after.contains(&secret), "only the hash is stored");
    eventually_status(&server, "billing", &secret, 200).await;

    // An existing id, or a result that would not validate: exit 1, no change.
    for args in [
        vec!["clients", "add", "billing", "--scope", "api1"],
        vec!["clients", "add", "other", "--scope", "nope"],
    ] {
        let (code, _, err) = tollgate(&args, &file);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), after, "{args:?}");
    }

    // Rotation: the new secret works, the old one until the overlap ends.
    let (code, out, err) = tollgate(
        &["clients", "rotate-secret", "billing", "--overlap", "1h"],
        &file,
    );
    assert_eq!(code, 0, "{err}");
    let fresh = secret_of(&out);
    eventually_status(&server, "billing", &fresh, 200).await;
    assert_eq!(
        token_status(&server, "billing", &secret).await,
        200,
        "within the overlap"
    );
    let rotated = std::fs::read_to_string(&file).unwrap();
    assert_eq!(rotated.matches("expires = ").count(), 1, "{rotated}");

    let (code, out, _) = tollgate(&["clients", "list", "--format", "json"], &file);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    let billing = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "billing")
        .unwrap();
    assert_eq!(billing["valid_secrets"], 2);
    assert_eq!(billing["access_token_lifetime"], "15m");

    let (code, _, err) = tollgate(&["clients", "remove", "billing"], &file);
    assert_eq!(code, 0, "{err}");
    eventually_status(&server, "billing", &fresh, 401).await;
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim_end(),
        before.trim_end()
    );
}

#[test]
fn a_client_in_an_included_file_is_edited_in_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    std::fs::write(
        &main,
        format!(
            "include = [\"clients.d/*.toml\"]\n{COMMENTED}[[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("clients.d")).unwrap();
    let team = dir.path().join("clients.d/team.toml");
    std::fs::write(&team, format!("# team\n[[clients]]\nclient_id = \"team\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n", hash("secret"))).unwrap();
    let main_before = std::fs::read_to_string(&main).unwrap();
    let (code, out, err) = tollgate(&["clients", "rotate-secret", "team"], &main);
    assert_eq!(code, 0, "{err}");
    secret_of(&out);
    assert_eq!(
        std::fs::read_to_string(&main).unwrap(),
        main_before,
        "the main file is untouched"
    );
    let team_after = std::fs::read_to_string(&team).unwrap();
    assert!(team_after.starts_with("# team\n"), "{team_after}");
    assert_eq!(
        team_after.matches("[[clients.secrets]]").count(),
        2,
        "{team_after}"
    );
}

#[test]
fn clients_add_into_an_included_file_is_validated_with_the_main_file() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    std::fs::write(
        &main,
        format!(
            "include = [\"clients.d/*.toml\"]\n{COMMENTED}[[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("clients.d")).unwrap();
    let team = dir.path().join("clients.d/team.toml");
    std::fs::write(&team, "# team\n").unwrap();
    let into = team.to_str().unwrap();
    let main_before = std::fs::read_to_string(&main).unwrap();
    // The main file's scope is known, and the main file's client id taken.
    let (code, _, err) = tollgate(
        &[
            "clients", "add", "client", "--scope", "api1", "--into", into,
        ],
        &main,
    );
    assert_eq!(code, 1, "a duplicate id is refused: {err}");
    let (code, out, err) = tollgate(
        &[
            "clients", "add", "reports", "--scope", "api1", "--into", into,
        ],
        &main,
    );
    assert_eq!(code, 0, "{err}");
    secret_of(&out);
    assert_eq!(std::fs::read_to_string(&main).unwrap(), main_before);
    let team_after = std::fs::read_to_string(&team).unwrap();
    assert!(team_after.starts_with("# team\n"), "{team_after}");
    assert!(
        team_after.contains("client_id = \"reports\""),
        "{team_after}"
    );
    // A file the main file does not include is refused.
    let stray = dir.path().join("stray.toml");
    std::fs::write(&stray, "").unwrap();
    let (code, _, err) = tollgate(
        &[
            "clients",
            "add",
            "x",
            "--scope",
            "api1",
            "--into",
            stray.to_str().unwrap(),
        ],
        &main,
    );
    assert_eq!(code, 1);
    assert!(err.contains("not a file that"), "{err}");
}

#[test]
fn diff_says_what_an_edit_changes_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.toml");
    let new = dir.path().join("new.toml");
    let secret = format!("[[clients.secrets]]\nhash = \"{}\"\n", hash("secret"));
    std::fs::write(&old, format!("{COMMENTED}{secret}[[clients]]\nclient_id = \"gone\"\nallowed_scopes = [\"api1\"]\n{secret}")).unwrap();
    std::fs::write(
        &new,
        format!(
            "{}{secret}[[api_scopes]]\nname = \"api2\"\n[[api_resources]]\nname = \"https://billing.example\"\nscopes = [\"api2\"]\n[[clients]]\nclient_id = \"billing\"\nallowed_scopes = [\"api2\"]\n{secret}",
            COMMENTED.replace("allowed_scopes = [\"api1\"]", "allowed_scopes = [\"api1\", \"api2\"]\naccess_token_lifetime = \"5m\"")
        ),
    )
    .unwrap();
    let run = |format: &str| {
        let out = Command::new(tollgate_bin())
            .args(["diff"])
            .arg(&old)
            .arg(&new)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run("text");
    for line in [
        "+ client billing (scopes: api2)",
        "+ resource https://billing.example (scopes: api2)",
        "- client gone",
        "~ client client: allowed_scopes: api1 -> api1 api2",
        "~ client client: access_token_lifetime: 1h -> 5m",
        "+ scope api2",
    ] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
    assert!(!text.contains("argon2"), "no secret material");
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["clients"]["added"], serde_json::json!(["billing"]));
    assert_eq!(
        json["resources"]["added_scopes"]["https://billing.example"],
        "api2"
    );
    assert_eq!(json["clients"]["removed"], serde_json::json!(["gone"]));
    assert_eq!(json["scopes"]["added"], serde_json::json!(["api2"]));
}

/// `tollgate diff OLD NEW` with its arguments; exit code and stdout.
fn diff(old: &Path, new: &Path, flags: &[&str]) -> (i32, String) {
    let out = Command::new(tollgate_bin())
        .arg("diff")
        .arg(old)
        .arg(new)
        .args(flags)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn diff_exit_code_is_1_with_changes_and_0_without_as_git_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (old, same, new) = (
        dir.path().join("old.toml"),
        dir.path().join("same.toml"),
        dir.path().join("new.toml"),
    );
    let secret = format!("[[clients.secrets]]\nhash = \"{}\"\n", hash("secret"));
    std::fs::write(&old, format!("{COMMENTED}{secret}")).unwrap();
    std::fs::write(&same, format!("{COMMENTED}{secret}")).unwrap();
    std::fs::write(
        &new,
        format!("{COMMENTED}access_token_lifetime = \"5m\"\n{secret}"),
    )
    .unwrap();
    for format in ["text", "json"] {
        let f = ["--format", format];
        let (code, out) = diff(&old, &new, &f);
        assert_eq!(code, 0, "without --exit-code, changes are exit 0: {out}");
        let (code, with_flag) = diff(&old, &new, &[&f[..], &["--exit-code"]].concat());
        assert_eq!(code, 1, "changes with --exit-code: {with_flag}");
        assert_eq!(out, with_flag, "the output does not depend on the flag");
        let (code, out) = diff(&old, &same, &[&f[..], &["--exit-code"]].concat());
        assert_eq!(code, 0, "no changes with --exit-code: {out}");
    }
}

#[test]
fn diff_shows_durations_as_written_not_in_months_and_days() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.toml"), dir.path().join("new.toml"));
    let secret = format!("[[clients.secrets]]\nhash = \"{}\"\n", hash("secret"));
    let keys = |every: &str| {
        format!("[keys]\nrotate_every = \"{every}\"\nannounce = \"14d\"\nretain = \"14d\"\n")
    };
    std::fs::write(&old, format!("{COMMENTED}{secret}{}", keys("30d"))).unwrap();
    std::fs::write(
        &new,
        format!(
            "{}{secret}{}",
            COMMENTED.replace(
                "allowed_scopes = [\"api1\"]",
                "allowed_scopes = [\"api1\"]\naccess_token_lifetime = \"1h30m\""
            ),
            keys("90d"),
        ),
    )
    .unwrap();
    let (code, text) = diff(&old, &new, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("every 30d, announce 14d, retain 14d"),
        "{text}"
    );
    assert!(
        text.contains("every 90d, announce 14d, retain 14d"),
        "{text}"
    );
    assert!(
        text.contains("~ client client: access_token_lifetime: 1h -> 90m"),
        "{text}"
    );
    assert!(!text.contains("month") && !text.contains("days"), "{text}");
    let (_, json) = diff(&old, &new, &["--format", "json"]);
    assert!(
        json.contains("every 90d") && json.contains("\"90m\""),
        "{json}"
    );
}

#[test]
fn rotate_secret_overlap_takes_the_durations_of_the_file_and_names_them_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    let file = format!(
        "{COMMENTED}[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    );
    std::fs::write(&main, &file).unwrap();
    let (code, _, err) = tollgate(
        &["clients", "rotate-secret", "client", "--overlap", "1 week"],
        &main,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--overlap") && err.contains("not a duration") && err.contains("s, m, h or d"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&main).unwrap(), file, "unchanged");
    let (code, out, err) = tollgate(
        &["clients", "rotate-secret", "client", "--overlap", "1d12h"],
        &main,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("secret: "), "{out}");
}

#[test]
fn diff_of_a_copy_in_another_folder_shows_no_change_of_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("review").join("head");
    std::fs::create_dir_all(&other).unwrap();
    let file = format!(
        "include = [\"clients.d/*.toml\"]\n{COMMENTED}[[clients.secrets]]\nhash = \"{}\"\n[keys]\ndir = \"keys\"\n",
        hash("secret")
    );
    let (old, copy) = (
        dir.path().join("identity.toml"),
        other.join("identity.toml"),
    );
    std::fs::write(&old, &file).unwrap();
    std::fs::write(&copy, &file).unwrap();
    let (code, out) = diff(&old, &copy, &["--exit-code"]);
    assert_eq!((code, out.as_str()), (0, "no changes\n"));
    // Run from the copy's folder, one file named without a folder: the
    // same.
    let out = Command::new(tollgate_bin())
        .current_dir(&other)
        .arg("diff")
        .arg(&old)
        .arg("identity.toml")
        .arg("--exit-code")
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        (Some(0), "no changes\n")
    );
    // A folder that does change is shown as written.
    std::fs::write(&copy, file.replace("dir = \"keys\"", "dir = \"../keys\"")).unwrap();
    let (code, out) = diff(&old, &copy, &["--exit-code"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("~ keys: automatic in keys (") && out.contains("-> automatic in ../keys ("),
        "{out}"
    );
}

#[test]
fn clients_list_has_a_header_row() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    std::fs::write(
        &main,
        format!("{COMMENTED}[[clients.secrets]]\nhash = \"{}\"\n", hash("s")),
    )
    .unwrap();
    let (code, out, err) = tollgate(&["clients", "list"], &main);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let cells = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(cells(lines[0]), ["CLIENT", "SCOPES", "AUTH", "STATE"]);
    assert_eq!(cells(lines[1]), ["client", "api1", "secret", "enabled"]);
    assert_eq!(lines[0].find("SCOPES"), lines[1].find("api1"), "aligned");
}
