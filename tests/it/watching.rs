//! What live reload costs beside the files it reads: the folders it
//! watches (never a subtree: a build's `target/` beside `identity.toml` is
//! not watched), and its log with the log file in a watched folder (no
//! line per ignored event, which would feed itself). Both look at a real
//! server process from outside: its inotify watches in `/proc`, its log.

#[cfg(target_os = "linux")]
use std::collections::BTreeSet;
#[cfg(target_os = "linux")]
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Proc, eventually, tollgate_bin};
#[cfg(target_os = "linux")]
use crate::support::{hash, start_logged};

/// The inodes of the folders the process `pid` watches with inotify, as
/// the kernel lists them in `/proc/<pid>/fdinfo`.
#[cfg(target_os = "linux")]
fn watched_inodes(pid: u32) -> BTreeSet<u64> {
    let mut inodes = BTreeSet::new();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return inodes;
    };
    for fd in fds.flatten() {
        // A descriptor closed meanwhile has nothing to say.
        let text = std::fs::read_to_string(fd.path()).unwrap_or_default();
        for line in text.lines().filter(|l| l.starts_with("inotify wd:")) {
            let ino = line
                .split_whitespace()
                .find_map(|f| f.strip_prefix("ino:"))
                .and_then(|hex| u64::from_str_radix(hex, 16).ok());
            inodes.extend(ino);
        }
    }
    inodes
}

#[cfg(target_os = "linux")]
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

#[cfg(target_os = "linux")]
fn config(include: &str) -> String {
    format!(
        "include = [\"{include}\"]\n[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"client\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    )
}

#[cfg(target_os = "linux")]
fn team(id: &str) -> String {
    format!(
        "[[clients]]\nclient_id = \"{id}\"\nallowed_scopes = [\"api1\"]\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    )
}

/// `identity.toml` at the root of a repository whose `target/` holds 300
/// folders: the server watches the config file's folder and the folder of
/// its team files, two watches, and when an edit names another folder of
/// team files, that one instead.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_folders_of_the_files_read_are_watched_not_the_tree_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for crate_ in 0..100 {
        std::fs::create_dir_all(root.join(format!("target/debug/build/crate-{crate_}/out")))
            .unwrap();
    }
    std::fs::create_dir(root.join("clients.d")).unwrap();
    std::fs::write(root.join("clients.d/a.toml"), team("alpha")).unwrap();
    let main = root.join("identity.toml");
    std::fs::write(&main, config("clients.d/*.toml")).unwrap();
    let mut server = start_logged(&main, "info", &[]).await;
    let pid = server.child.id();

    let expected = BTreeSet::from([inode(root), inode(&root.join("clients.d"))]);
    eventually(Duration::from_secs(10), "two folders watched", || {
        std::future::ready((watched_inodes(pid) == expected).then_some(()))
    })
    .await;

    // A build beside it: folders made and removed under `target/` cost
    // no watch, so none is removed (and logged as not removable).
    for i in 0..20 {
        let session = root.join(format!("target/debug/incremental/s-{i}"));
        std::fs::create_dir_all(&session).unwrap();
        std::fs::write(session.join("dep-graph.bin"), "x").unwrap();
        std::fs::remove_dir_all(&session).unwrap();
    }
    assert_eq!(watched_inodes(pid), expected);

    // The team files move to `teams/`: its folder is watched, the old one
    // no longer, and a team file made there later is seen.
    std::fs::create_dir(root.join("teams")).unwrap();
    let next = root.join(".identity.toml.tmp");
    std::fs::write(&next, config("teams/*.toml")).unwrap();
    std::fs::rename(&next, &main).unwrap();
    let expected = BTreeSet::from([inode(root), inode(&root.join("teams"))]);
    eventually(Duration::from_secs(10), "the new folder watched", || {
        std::future::ready((watched_inodes(pid) == expected).then_some(()))
    })
    .await;
    std::fs::write(root.join("teams/b.toml"), team("beta")).unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    eventually(Duration::from_secs(10), "beta's token", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", crate::support::basic("beta", "secret"))
                .body("grant_type=client_credentials")
                .send()
                .await
                .ok()?;
            (r.status() == 200).then_some(())
        }
    })
    .await;
    let log = server.stop();
    assert!(!log.contains("unable to remove watch"), "{log}");
}

/// `TOLLGATE_LOG=trace` with the log written into the config folder: the
/// log settles (a second without a line comes), where a line per ignored
/// event would make every line the event of the next, for ever.
#[tokio::test]
async fn trace_logging_into_the_config_folder_does_not_feed_itself() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    std::fs::write(&main, crate::support::quickstart_toml()).unwrap();
    let log = dir.path().join("server.log");
    let _server = Proc(
        std::process::Command::new(tollgate_bin())
            .args(["serve", "--config", main.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .env("TOLLGATE_LOG", "trace")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually(Duration::from_secs(30), "the listening line", || {
        std::future::ready(text().contains("listening on").then_some(()))
    })
    .await;
    let mut last = (0, Instant::now());
    let quiet = eventually(
        Duration::from_secs(15),
        "a second without a log line",
        || {
            let len = std::fs::metadata(&log).map_or(0, |m| m.len());
            if len != last.0 {
                last = (len, Instant::now());
            }
            std::future::ready((last.1.elapsed() >= Duration::from_secs(1)).then_some(len))
        },
    )
    .await;
    let text = text();
    assert!(quiet < 64 * 1024, "{} bytes of log at rest", quiet);
    assert!(!text.contains("inotify event"), "{text}");
}
