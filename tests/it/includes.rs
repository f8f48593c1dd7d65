//! `include = ["clients.d/*.toml"]`: lists from several files, each problem
//! at its own file and line, ids unique across files, and reload following
//! every file (added, edited, removed, a folder created after start).

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::support::{TestServer, eventually, hash};

fn main_toml() -> String {
    format!(
        "include = [\"clients.d/*.toml\"]\n[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"client\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    )
}

fn team(id: &str) -> String {
    format!(
        "#:schema ../schemas/included.schema.json\n[[clients]]\nclient_id = \"{id}\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    )
}

/// (file name if included, key path, line, message)
type Found = (Option<String>, String, Option<usize>, String);

fn check(dir: &std::path::Path) -> (bool, Vec<Found>) {
    let path = dir.join("identity.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let report = tollgate::check(
        &text,
        &path,
        tollgate::Overrides::None,
        crate::support::now(),
    );
    let problems = report
        .errors
        .iter()
        .map(|p| {
            (
                p.file
                    .as_ref()
                    .map(|f| f.file_name().unwrap().to_string_lossy().into_owned()),
                p.key_path.clone(),
                p.line,
                p.message.clone(),
            )
        })
        .collect();
    (report.config.is_some(), problems)
}

#[test]
fn every_problem_of_an_included_file_is_reported_at_its_own_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), main_toml()).unwrap();
    std::fs::create_dir(dir.path().join("clients.d")).unwrap();
    std::fs::write(dir.path().join("clients.d/a.toml"), team("alpha")).unwrap();
    assert!(check(dir.path()).0, "{:?}", check(dir.path()).1);
    // Each way to be wrong, in an included file.
    let rows = [
        (
            format!("issuer = \"x\"\n{}", team("beta")),
            "issuer",
            1,
            "unknown key",
        ),
        (team("client"), "clients[0].client_id", 3, "earlier client"),
        (
            team("beta").replace("[\"api1\"]", "[\"api2\"]"),
            "clients[0].allowed_scopes[0]",
            4,
            "not declared",
        ),
        ("[[clients]\n".to_owned(), "", 1, ""),
    ];
    for (text, path, line, words) in rows {
        std::fs::write(dir.path().join("clients.d/b.toml"), &text).unwrap();
        let (valid, problems) = check(dir.path());
        assert!(!valid, "{text}");
        let p = problems
            .iter()
            .find(|p| p.1 == path)
            .unwrap_or_else(|| panic!("no problem at {path}: {problems:?}"));
        assert_eq!(p.0.as_deref(), Some("b.toml"), "{p:?}");
        assert_eq!(p.2, Some(line), "{p:?}");
        assert!(p.3.contains(words), "{p:?}");
    }
    // The command line names the file.
    std::fs::write(
        dir.path().join("clients.d/b.toml"),
        format!("issuer = \"x\"\n{}", team("beta")),
    )
    .unwrap();
    let out = std::process::Command::new(crate::support::tollgate_bin())
        .args(["check", "--config"])
        .arg(dir.path().join("identity.toml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("clients.d/b.toml:1:1: issuer: unknown key `issuer`"),
        "{err}"
    );
}

async fn status(server: &TestServer, id: &str) -> u16 {
    server.basic_status(id, "secret").await
}

async fn wait_until(server: &TestServer, what: &str, id: &'static str, expected: u16) {
    let (http, url) = (server.http.clone(), server.url("/connect/token"));
    eventually(Duration::from_secs(15), what, || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", crate::support::basic(id, "secret"))
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
async fn reload_follows_included_files_and_a_broken_one_keeps_the_last_good_set() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), main_toml()).unwrap();
    let server = TestServer::spawn_in(dir).await;
    let d = server.dir.path().join("clients.d");
    // The folder is created after start.
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("a.toml"), team("alpha")).unwrap();
    wait_until(&server, "a new file", "alpha", 200).await;
    // An edit: alpha becomes gamma.
    std::fs::write(d.join("a.toml"), team("gamma")).unwrap();
    wait_until(&server, "an edit", "gamma", 200).await;
    assert_eq!(status(&server, "alpha").await, 401);
    // A broken included file: nothing changes, the error is reported.
    std::fs::write(d.join("b.toml"), "[[clients]\n").unwrap();
    let http = server.http.clone();
    let url = server.url("/healthz");
    let h: Value = eventually(Duration::from_secs(15), "the refusal", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let h: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            h["config"]["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("b.toml"))
                .then_some(h)
        }
    })
    .await;
    assert!(
        h["config"]["last_error"]
            .as_str()
            .unwrap()
            .contains("clients.d/b.toml:1"),
        "{h}"
    );
    assert_eq!(
        status(&server, "gamma").await,
        200,
        "the last good set serves"
    );
    // Removed: its clients go.
    std::fs::remove_file(d.join("b.toml")).unwrap();
    std::fs::remove_file(d.join("a.toml")).unwrap();
    wait_until(&server, "a removal", "gamma", 401).await;
    assert_eq!(status(&server, "client").await, 200);
}

/// A team file rewritten in place by a writer that pauses after a client
/// whose `enabled = false` line is still to come, for longer than the
/// 250 ms a quiet-period rule would wait: that half, valid on its own,
/// must never be applied; the whole file is, once, after the writer
/// closed it. However long the pause stretches, the answer is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_included_file_written_in_place_with_a_long_pause_is_applied_whole_not_half() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), main_toml()).unwrap();
    std::fs::create_dir(dir.path().join("clients.d")).unwrap();
    let file = dir.path().join("clients.d/a.toml");
    std::fs::write(&file, team("alpha")).unwrap();
    let server = TestServer::spawn_in(dir).await;
    let generation = || async {
        let h: Value = server.get_json("/healthz").await;
        h["config"]["generation"].as_u64().unwrap()
    };
    let start = generation().await;
    let client = |id: &str| {
        format!(
            "[[clients]]\nclient_id = \"{id}\"\nallowed_scopes = [\"api1\"]\nsecrets = [{{ hash = \"{}\" }}]\n",
            hash("secret")
        )
    };
    // Half: `beta` enabled (valid TOML, a valid file); the rest disables
    // it and adds `gamma`.
    let half = format!("{}{}", team("alpha"), client("beta"));
    let rest = format!("enabled = false\n{}", client("gamma"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap();
    f.write_all(half.as_bytes()).unwrap();
    f.flush().unwrap();
    // The writer's pause, watched all along: nothing may be applied.
    let paused = std::time::Instant::now();
    while paused.elapsed() < Duration::from_millis(600) {
        assert_eq!(
            generation().await,
            start,
            "the half file was applied {:?} into the pause",
            paused.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f.write_all(rest.as_bytes()).unwrap();
    drop(f);
    let in_force = eventually(
        Duration::from_secs(10),
        "the whole file in force",
        || async {
            let g = generation().await;
            (g > start).then_some(g)
        },
    )
    .await;
    assert_eq!(in_force, start + 1, "the half was applied before the whole");
    assert_eq!(status(&server, "gamma").await, 200);
    assert_eq!(status(&server, "beta").await, 401);
    assert_eq!(status(&server, "alpha").await, 200);
}

/// Truncated in place: an empty team file is refused like an empty main
/// file, and the team's clients keep working.
#[tokio::test]
async fn an_emptied_included_file_is_refused_and_its_clients_stay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), main_toml()).unwrap();
    std::fs::create_dir(dir.path().join("clients.d")).unwrap();
    let file = dir.path().join("clients.d/a.toml");
    std::fs::write(&file, team("alpha")).unwrap();
    let server = TestServer::spawn_in(dir).await;
    std::fs::write(&file, "").unwrap();
    let h = server.refused(&["a.toml", "empty"]).await;
    assert_eq!(h["config"]["generation"], 1, "{h}");
    assert_eq!(status(&server, "alpha").await, 200);
}

/// A file just over the limit, made sparse: nothing is written to disk.
fn oversized(path: &std::path::Path) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(64 * 1024 * 1024 + 1).unwrap();
}

fn check_stderr(main: &std::path::Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(crate::support::tollgate_bin())
        .args(["check", "--config"])
        .arg(main)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), err)
}

/// An included file over 64 MiB is refused before it is read, by `check`
/// and by reload, naming the file and the limit; the last good
/// configuration keeps serving. A main file over it is refused too.
#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_naming_it_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    std::fs::write(&main, main_toml()).unwrap();
    std::fs::create_dir(dir.path().join("clients.d")).unwrap();
    std::fs::write(dir.path().join("clients.d/a.toml"), team("alpha")).unwrap();
    let server = TestServer::spawn_in(dir).await;
    let big = server.dir.path().join("clients.d/big.toml");
    oversized(&big);
    let h = server.refused(&["big.toml"]).await;
    let error = h["config"]["last_error"].as_str().unwrap();
    assert!(error.contains("64 MiB"), "{error}");
    assert_eq!(h["config"]["generation"], 1, "{h}");
    assert_eq!(status(&server, "alpha").await, 200);

    let (code, err) = check_stderr(&main);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("big.toml") && err.contains("64 MiB"), "{err}");

    std::fs::remove_file(&big).unwrap();
    oversized(&main);
    let (code, err) = check_stderr(&main);
    // A main file that cannot be read at all: `check`'s exit code 2.
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("identity.toml") && err.contains("64 MiB"),
        "{err}"
    );
    // And reload: the last good configuration keeps serving.
    let h = server.refused(&["identity.toml", "64 MiB"]).await;
    assert_eq!(h["config"]["generation"], 1, "{h}");
    assert_eq!(status(&server, "alpha").await, 200);
}
