//! Live reload: watch the config file's *folder* (editors write a temporary
//! file and rename it; Kubernetes swaps the `..data` symlink of a ConfigMap
//! volume; both are events in the folder, not on the file), debounce, and
//! apply when the content's hash changed. A slow poll backs the watcher up,
//! for filesystems that do not report events.
//!
//! A file that does not parse or validate, or that vanished, changes
//! nothing: the last good configuration keeps serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::Overrides;
use crate::state::AppState;

/// Quiet time after the last event before reading the file: an editor's
/// save is several events, a ConfigMap update a handful.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// The fallback poll.
const POLL: Duration = Duration::from_secs(5);

/// What one reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    Applied { generation: u64 },
    Rejected(String),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How long the content must stay the same before it is applied: an
/// in-place write (truncate, then write) can be caught half done, and half a
/// file may well be valid.
const SETTLE: Duration = Duration::from_millis(50);

/// Reads the file until two reads `SETTLE` apart agree.
fn read_settled(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)?;
    for _ in 0..20 {
        std::thread::sleep(SETTLE);
        let again = std::fs::read(path)?;
        if again == bytes {
            break;
        }
        bytes = again;
    }
    Ok(bytes)
}

/// Reads `path` and, if its content changed, validates and applies it.
/// Blocking: it waits for the content to settle.
pub fn reload_once(state: &AppState, path: &Path) -> Outcome {
    let unreadable = |e: std::io::Error| {
        format!(
            "{}: cannot read: {e}; keeping the configuration in force",
            path.display()
        )
    };
    let hash = match std::fs::read(path) {
        Ok(b) => sha256_hex(&b),
        Err(e) => return reject(state, unreadable(e)),
    };
    if unchanged(state, &hash) {
        return Outcome::Unchanged;
    }
    let bytes = match read_settled(path) {
        Ok(b) => b,
        Err(e) => return reject(state, unreadable(e)),
    };
    // A file being rewritten in place is empty for a moment; an empty
    // configuration (no clients at all) is never what an operator meant.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return reject(
            state,
            format!(
                "{}: the file is empty; keeping the configuration in force",
                path.display()
            ),
        );
    }
    let hash = sha256_hex(&bytes);
    if unchanged(state, &hash) {
        return Outcome::Unchanged;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return reject(state, format!("{}: not UTF-8 text", path.display()));
    };
    let report = super::check(&text, path, Overrides::Environment, (state.clock)());
    match report.config {
        Some(config) => {
            for w in &report.warnings {
                tracing::warn!("{}", w.render(path, Some("warning")));
            }
            let generation = state.apply(config, hash);
            tracing::info!(generation, file = %path.display(), "configuration reloaded");
            Outcome::Applied { generation }
        }
        None => {
            let error = super::ConfigError::Invalid {
                file: path.to_owned(),
                problems: report.errors,
            };
            reject(state, error.to_string())
        }
    }
}

/// The file in force has `hash`, and no declared key file it lists was
/// replaced (a Secret update can change a key file under an unchanged
/// config file).
fn unchanged(state: &AppState, hash: &str) -> bool {
    state.status().sha256 == hash && !state.config().keys.key_files_changed()
}

fn reject(state: &AppState, error: String) -> Outcome {
    // Log each distinct problem once, not on every poll.
    if state.status().last_error.as_deref() != Some(error.as_str()) {
        tracing::error!("configuration not applied, the last good one keeps serving:\n{error}");
    }
    state.reject(error.clone());
    Outcome::Rejected(error)
}

/// Keeps the watcher alive; reloading stops when it is dropped.
pub struct Reloader {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `path`'s folder and applying changes to `state`.
pub fn watch(state: Arc<AppState>, path: PathBuf) -> notify::Result<Reloader> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Any event in the folder may concern the file (through renames and
        // symlinks); the content hash decides.
        if event.is_ok() {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(&folder, RecursiveMode::NonRecursive)?;
    let task = tokio::spawn(async move {
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = rx.recv() => {
                    if event.is_none() {
                        break;
                    }
                    while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
                }
                _ = poll.tick() => {}
            }
            let (state, path) = (state.clone(), path.clone());
            // Reading and validating a large file is blocking work.
            let reloaded = tokio::task::spawn_blocking(move || {
                let outcome = reload_once(&state, &path);
                if !matches!(outcome, Outcome::Unchanged) {
                    crate::memory::release_freed();
                }
            });
            let _ = reloaded.await;
        }
    });
    Ok(Reloader {
        _watcher: watcher,
        task,
    })
}
