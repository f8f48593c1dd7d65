//! Live reload against the real server: every way a file gets updated,
//! bad edits that change nothing, and no failed request during rewrites.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    TestServer, basic, eventually, fingerprint, hash, quickstart_toml, start_logged,
};

/// A config with the quickstart client and, optionally, a second one.
fn toml(extra_client: Option<&str>) -> String {
    let mut t = format!(
        "[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"client\"\nallowed_scopes = [\"api1\"]\n\
         [[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    );
    if let Some(id) = extra_client {
        t += &format!(
            "[[clients]]\nclient_id = \"{id}\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        );
    }
    t
}

async fn health(server: &TestServer) -> Value {
    server.get_json("/healthz").await
}

/// Polls /healthz until `pred` holds, failing after five seconds.
async fn wait_health(server: &TestServer, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    eventually(Duration::from_secs(5), what, || async {
        let h = health(server).await;
        pred(&h).then_some(h)
    })
    .await
}

fn generation(h: &Value) -> u64 {
    h["config"]["generation"].as_u64().unwrap()
}

#[tokio::test]
async fn an_in_place_write_is_applied_within_two_seconds() {
    let server = TestServer::spawn(&toml(None)).await;
    assert_eq!(server.basic_status("added", "secret").await, 401);
    let started = Instant::now();
    std::fs::write(server.dir.path().join("identity.toml"), toml(Some("added"))).unwrap();
    wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(server.basic_status("added", "secret").await, 200);
}

#[tokio::test]
async fn an_editors_write_to_temp_and_rename_is_applied() {
    let server = TestServer::spawn(&toml(None)).await;
    let tmp = server.dir.path().join(".identity.toml.swp");
    std::fs::write(&tmp, toml(Some("renamed"))).unwrap();
    std::fs::rename(&tmp, server.dir.path().join("identity.toml")).unwrap();
    wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    assert_eq!(server.basic_status("renamed", "secret").await, 200);
}

#[tokio::test]
async fn a_deleted_file_keeps_the_last_good_config_until_it_is_recreated() {
    let server = TestServer::spawn(&toml(None)).await;
    let file = server.dir.path().join("identity.toml");
    std::fs::remove_file(&file).unwrap();
    let h = wait_health(&server, "an error about the missing file", |h| {
        h["config"]["last_error"].is_string()
    })
    .await;
    assert!(
        h["config"]["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot read"),
        "{h}"
    );
    assert_eq!(generation(&h), 1);
    assert_eq!(
        server.basic_status("client", "secret").await,
        200,
        "still serving"
    );
    std::fs::write(&file, toml(Some("back"))).unwrap();
    let h = wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    assert!(h["config"].get("last_error").is_none());
    assert_eq!(server.basic_status("back", "secret").await, 200);
}

/// Lays out a folder the way the kubelet mounts a ConfigMap:
/// `identity.toml -> ..data/identity.toml`, `..data -> ..<version>`.
fn configmap_version(dir: &Path, version: &str, content: &str) {
    let versioned = dir.join(version);
    std::fs::create_dir(&versioned).unwrap();
    std::fs::write(versioned.join("identity.toml"), content).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(version, &tmp).unwrap();
    // The atomic swap: rename over the old symlink.
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
}

#[tokio::test]
async fn a_kubernetes_configmap_symlink_swap_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    configmap_version(dir.path(), "..2026_11_25_v1", &toml(None));
    std::os::unix::fs::symlink("..data/identity.toml", dir.path().join("identity.toml")).unwrap();
    let server = TestServer::spawn_in(dir).await;
    assert_eq!(server.basic_status("mounted", "secret").await, 401);
    configmap_version(server.dir.path(), "..2026_11_25_v2", &toml(Some("mounted")));
    std::fs::remove_dir_all(server.dir.path().join("..2026_11_25_v1")).unwrap();
    wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    assert_eq!(server.basic_status("mounted", "secret").await, 200);
    // Keys were created beside the link, not inside a version folder.
    assert_eq!(
        crate::support::key_files(&server.dir.path().join("keys")).len(),
        1
    );
}

#[tokio::test]
async fn a_broken_edit_changes_nothing_and_is_reported_with_its_line() {
    let server = TestServer::spawn(&toml(None)).await;
    let file = server.dir.path().join("identity.toml");
    let before = health(&server).await;
    std::fs::write(&file, toml(None).replace("[\"api1\"]", "[\"nope\"]")).unwrap();
    // An in-place write is empty for a moment, which is refused on its own.
    let h = wait_health(&server, "the error", |h| {
        last_error(h).contains("scope nope")
    })
    .await;
    let error = h["config"]["last_error"].as_str().unwrap();
    assert!(
        error.contains("identity.toml:5:19: clients[0].allowed_scopes[0]: scope nope"),
        "{error}"
    );
    assert_eq!(h["config"]["sha256"], before["config"]["sha256"]);
    assert_eq!(server.basic_status("client", "secret").await, 200);
    std::fs::write(&file, "").unwrap();
    wait_health(&server, "an empty-file error", |h| {
        h["config"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("empty"))
    })
    .await;
    assert_eq!(server.basic_status("client", "secret").await, 200);
    std::fs::write(&file, "this is not toml [").unwrap();
    wait_health(&server, "a parse error", |h| {
        h["config"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("identity.toml:1:"))
    })
    .await;
    assert_eq!(server.basic_status("client", "secret").await, 200);
    std::fs::write(&file, toml(Some("fixed"))).unwrap();
    let h = wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    assert!(h["config"].get("last_error").is_none());
}

#[tokio::test]
async fn settings_that_need_a_restart_are_reported_not_ignored() {
    let server = TestServer::spawn(&toml(None)).await;
    let file = server.dir.path().join("identity.toml");
    std::fs::write(
        &file,
        format!("[server]\nlisten = \"0.0.0.0:9999\"\n{}", toml(Some("x"))),
    )
    .unwrap();
    let h = wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    let restart = h["config"]["restart_required"].as_array().unwrap();
    assert!(
        restart
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("server.listen")),
        "{h}"
    );
    assert_eq!(
        server.basic_status("x", "secret").await,
        200,
        "the rest applied"
    );
    // An unrelated edit keeps the warning: the process still serves on
    // its first address.
    std::fs::write(
        &file,
        format!("[server]\nlisten = \"0.0.0.0:9999\"\n{}", toml(Some("y"))),
    )
    .unwrap();
    let h = wait_health(&server, "generation 3", |h| generation(h) == 3).await;
    assert_eq!(
        h["config"]["restart_required"].as_array().unwrap().len(),
        1,
        "{h}"
    );
    // Reverting the setting clears it.
    std::fs::write(&file, toml(Some("z"))).unwrap();
    let h = wait_health(&server, "generation 4", |h| generation(h) == 4).await;
    assert!(
        h["config"]["restart_required"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{h}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_keep_flowing_while_the_file_is_rewritten_fifty_times() {
    let server = TestServer::spawn(&toml(None)).await;
    let file = server.dir.path().join("identity.toml");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (http, url, stop) = (
            server.http.clone(),
            server.url("/connect/token"),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = http
                    .post(&url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Authorization", basic("client", "secret"))
                    .body("grant_type=client_credentials")
                    .send()
                    .await
                    .unwrap();
                if r.status() == 200 {
                    ok += 1
                } else {
                    failed.push(r.status().as_u16())
                }
            }
            (ok, failed)
        }));
    }
    for i in 0..50 {
        // Alternate contents, in place and by rename, so each write is new.
        let content = toml(Some(&format!("c{i}")));
        if i % 2 == 0 {
            std::fs::write(&file, content).unwrap();
        } else {
            let tmp = server.dir.path().join("next.tmp");
            std::fs::write(&tmp, content).unwrap();
            std::fs::rename(&tmp, &file).unwrap();
        }
        // Paced so that the reloader applies many of the writes; the
        // checks below hold whichever it skips.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The last write in force: every write before it was seen.
    let last = fingerprint(&std::fs::read(&file).unwrap());
    let h = wait_health(&server, "the last write applied", |h| {
        h["config"]["sha256"] == last.as_str()
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, Vec::new());
    for w in workers {
        let (o, f) = w.await.unwrap();
        ok += o;
        failed.extend(f);
    }
    assert!(failed.is_empty(), "non-200 responses: {failed:?}");
    assert!(ok > 50, "only {ok} requests");
    assert!(generation(&h) >= 2, "{h}");
    assert!(h["config"].get("last_error").is_none(), "{h}");
    assert_eq!(server.basic_status("c49", "secret").await, 200);
}

#[tokio::test]
async fn a_secret_replaced_by_a_reload_stops_working_at_once_even_when_cached() {
    let server = TestServer::spawn(&toml(None)).await;
    // Verified once with Argon2, then answered from the cache.
    assert_eq!(server.basic_status("client", "secret").await, 200);
    assert_eq!(server.basic_status("client", "secret").await, 200);
    let h = health(&server).await;
    assert_eq!(h["auth"]["cache_hits"].as_u64(), Some(1), "{h}");
    let rotated = toml(None).replace(&hash("secret"), &hash("rotated"));
    std::fs::write(server.dir.path().join("identity.toml"), rotated).unwrap();
    wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    // The cached verification of the old secret is void: refused, and the
    // refusal paid for Argon2 like any wrong secret.
    let runs = |h: &Value| h["auth"]["argon2_runs"].as_u64().unwrap();
    let before = runs(&health(&server).await);
    assert_eq!(server.basic_status("client", "secret").await, 401);
    assert_eq!(runs(&health(&server).await), before + 1);
    assert_eq!(server.basic_status("client", "rotated").await, 200);
}

#[tokio::test]
async fn a_refused_edit_put_back_clears_the_error() {
    let server = TestServer::spawn(&crate::support::managed(&toml(None))).await;
    let file = server.dir.path().join("identity.toml");
    let good = std::fs::read(&file).unwrap();
    std::fs::write(&file, "colour = 1\n").unwrap();
    wait_health(&server, "the refusal", |h| {
        h["config"]["last_error"].is_string()
    })
    .await;
    let metrics = || crate::support::scrape(&server.http, server.management.unwrap());
    assert!(
        metrics()
            .await
            .contains("tollgate_config_last_reload_success 0")
    );
    // The exact bytes in force, back: nothing to apply, nothing wrong.
    std::fs::write(&file, &good).unwrap();
    let h = wait_health(&server, "the error to clear", |h| {
        h["config"]["last_error"].is_null()
    })
    .await;
    assert_eq!(generation(&h), 1, "nothing was applied");
    assert!(
        metrics()
            .await
            .contains("tollgate_config_last_reload_success 1")
    );
}

/// More clients than the validator parses in one batch: a reload of such a
/// file takes over the clients whose text did not change.
fn many(changed: &[(usize, String)], dropped: Option<usize>) -> String {
    let mut t = "[[api_scopes]]\nname = \"api1\"\n".to_owned();
    let secret = hash("secret");
    for i in 0..1100 {
        if Some(i) == dropped {
            continue;
        }
        match changed.iter().find(|(j, _)| *j == i) {
            Some((_, element)) => t += element,
            None => {
                t += &format!(
                    "[[clients]]\nclient_id = \"c{i}\"\nallowed_scopes = [\"api1\"]\n\
                     [[clients.secrets]]\nhash = \"{secret}\"\n"
                )
            }
        }
    }
    t
}

#[tokio::test]
async fn a_reload_of_many_clients_applies_each_changed_one_and_keeps_the_rest() {
    let server = TestServer::spawn(&many(&[], None)).await;
    let file = server.dir.path().join("identity.toml");
    assert_eq!(server.basic_status("c5", "secret").await, 200);
    let rotated = format!(
        "[[clients]]\nclient_id = \"c5\"\nallowed_scopes = [\"api1\"]\n\
         [[clients.secrets]]\nhash = \"{}\"\n",
        hash("other")
    );
    let added = format!(
        "[[clients]]\nclient_id = \"added\"\nallowed_scopes = [\"api1\"]\n\
         [[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    );
    std::fs::write(&file, many(&[(5, rotated.clone())], None) + &added).unwrap();
    wait_health(&server, "generation 2", |h| generation(h) == 2).await;
    assert_eq!(server.basic_status("c5", "secret").await, 401);
    assert_eq!(server.basic_status("c5", "other").await, 200);
    assert_eq!(server.basic_status("added", "secret").await, 200);
    assert_eq!(server.basic_status("c0", "secret").await, 200);

    // A broken element is refused with its line; the clients in force stay.
    let broken = "[[clients]]\nclient_id = \"c6\"\nallowed_scopes = [\"nope\"]\n".to_owned();
    std::fs::write(&file, many(&[(5, rotated.clone()), (6, broken)], None)).unwrap();
    // An in-place write is empty for a moment, which is refused on its own.
    let h = wait_health(&server, "the refusal", |h| {
        last_error(h).contains("clients[6]")
    })
    .await;
    assert!(
        h["config"]["last_error"]
            .as_str()
            .unwrap()
            .contains("identity.toml:35:19: clients[6].allowed_scopes[0]: scope nope"),
        "{h}"
    );
    assert_eq!(server.basic_status("c6", "secret").await, 200);

    // After the refusal, the next good edit still applies every change.
    std::fs::write(&file, many(&[(5, rotated)], Some(7))).unwrap();
    let h = wait_health(&server, "generation 3", |h| generation(h) == 3).await;
    assert!(h["config"]["last_error"].is_null(), "{h}");
    assert_eq!(server.basic_status("c7", "secret").await, 401);
    assert_eq!(server.basic_status("c5", "other").await, 200);
    assert_eq!(server.basic_status("c8", "secret").await, 200);
    assert_eq!(server.basic_status("added", "secret").await, 401);
}

#[tokio::test]
async fn sighup_reloads_instead_of_killing_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, quickstart_toml()).unwrap();
    let mut server = start_logged(&config, "info", &[]).await;
    let pid = server.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    eventually(Duration::from_secs(5), "the reload line", || {
        std::future::ready({
            server
                .log
                .lock()
                .unwrap()
                .contains("SIGHUP: reloading the configuration")
                .then_some(())
        })
    })
    .await;
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
    let r = reqwest::Client::new()
        .get(format!("http://{}/livez", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A slow writer in place: the first half (valid TOML on its own), a
/// pause longer than the 250 ms a quiet-period rule would wait, the rest.
/// The half is never applied, not even for a moment: the file is read
/// once its writer closed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_in_place_with_a_long_pause_is_applied_only_once_closed() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let file = server.dir.path().join("identity.toml");
    let second = format!(
        "[[clients]]\nclient_id = \"second\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    );
    let whole = format!("{}\n# edited\n{second}", quickstart_toml());
    let half = whole.len() - second.len();
    let start = generation(&health(&server).await);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap();
    f.write_all(&whole.as_bytes()[..half]).unwrap();
    f.flush().unwrap();
    // The writer's pause, watched all along: nothing may be applied.
    let paused = Instant::now();
    while paused.elapsed() < Duration::from_millis(600) {
        let h = health(&server).await;
        assert_eq!(
            generation(&h),
            start,
            "the half file was applied {:?} into the pause: {h}",
            paused.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f.write_all(&whole.as_bytes()[half..]).unwrap();
    drop(f);
    // The whole file in force, seen by its fingerprint: had the half been
    // applied first, the whole would be a generation later.
    let whole_in_force = fingerprint(whole.as_bytes());
    let h = wait_health(&server, "the whole file in force", |h| {
        h["config"]["sha256"] == whole_in_force.as_str()
    })
    .await;
    assert_eq!(generation(&h), start + 1, "{h}");
    assert_eq!(server.basic_status("second", "secret").await, 200);
}

/// The health report's `config.last_error`, or "" while there is none.
fn last_error(h: &serde_json::Value) -> &str {
    h["config"]["last_error"].as_str().unwrap_or_default()
}

/// A log written beside the file (`tollgate serve > server.log`) and a
/// reader of the file itself: an event every few tens of milliseconds,
/// none of which changes the configuration, must not hold an edit back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chatty_file_beside_the_config_does_not_hold_edits_back() {
    edits_apply_while_a_file_is_written_beside("server.log").await;
}

/// A file whose events count (a name like a ConfigMap's `..data`) written
/// without a pause: the debounce has a limit, so edits still go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_never_pause_hold_an_edit_back_three_seconds_at_most() {
    edits_apply_while_a_file_is_written_beside("..chatter").await;
}

/// Adds then removes a client twice, by rename, while `chatty` in the
/// config folder is appended to every 20 to 50 ms and the config file is
/// read as often; each edit must be in force within 3 s.
async fn edits_apply_while_a_file_is_written_beside(chatty: &str) {
    let server = TestServer::spawn(&toml(None)).await;
    let dir = server.dir.path().to_owned();
    let file = dir.join("identity.toml");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let chatter = {
        let (log, file, stop) = (dir.join(chatty), file.clone(), stop.clone());
        tokio::spawn(async move {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap();
            // Bounded: at most about a minute of lines.
            for i in 0..2000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                writeln!(f, "request {i} answered").unwrap();
                // A reader of the configuration: only access events.
                let _ = std::fs::read(&file);
                tokio::time::sleep(Duration::from_millis(20 + (i % 4) * 10)).await;
            }
        })
    };
    let mut in_force = generation(&health(&server).await);
    for round in 1..=2 {
        for (content, expected) in [(toml(Some("added")), 200), (toml(None), 401)] {
            let tmp = dir.join(".identity.toml.tmp");
            std::fs::write(&tmp, content).unwrap();
            std::fs::rename(&tmp, &file).unwrap();
            in_force += 1;
            // Seen on /healthz: polling the token endpoint with a client
            // that does not exist would be throttled.
            let what = format!("round {round}: generation {in_force}");
            eventually(Duration::from_secs(3), &what, || async {
                (generation(&health(&server).await) == in_force).then_some(())
            })
            .await;
            assert_eq!(server.basic_status("added", "secret").await, expected);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    chatter.await.unwrap();
}
