//! One look at the configuration's files (the loop that decides when is
//! `watch`): read them when they may have changed, and hand a newly
//! validated configuration to a [`Sink`] when the content did.
//!
//! A file that does not parse or validate, or that vanished, changes
//! nothing: the last good configuration keeps serving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::files::{SETTLE, empty, read_settled};
use super::stamp::Stamp;
use super::{Config, ConfigError, KeysConfig, Overrides, Reuse};
use tollgate_jose::clock::SharedClock;

/// Where reload outcomes go (the server's state).
pub(crate) trait Sink: Send + Sync + 'static {
    /// A new configuration, validated, from a file with this SHA-256 (hex).
    fn apply(&self, config: Config, sha256: String);
    /// The latest version of the file was refused, for this reason.
    fn reject(&self, error: String);
    /// After a refused edit, the file is back to the content in force.
    fn restored(&self);
}

/// What one reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Unchanged,
    Applied,
    Rejected(String),
    /// The file went back to the content in force after a refused edit.
    Restored,
    /// A file was written while the files were read: nothing was applied
    /// or refused; its writer's close brings another look.
    Interrupted,
}

/// What the reloader knows of the configuration in force.
struct InForce {
    /// Of the main file and every file its `include` names.
    sha256: String,
    keys: KeysConfig,
    include: Vec<String>,
    /// The refusal of the latest version of the file, while it is the
    /// latest.
    rejected: Option<String>,
    /// The files' stamp when the content in force was read; while it
    /// stays the same, the content needs no reading.
    stamp: Option<Stamp>,
    /// Its clients, for the next validation to take over.
    reuse: Option<Reuse>,
}

/// Reloads one file into a [`Sink`].
pub(crate) struct Reload {
    path: PathBuf,
    clock: SharedClock,
    sink: Arc<dyn Sink>,
    in_force: Mutex<InForce>,
}

impl Reload {
    /// `keys`, `include` and `reuse` are those of the configuration in
    /// force at start, read from files with fingerprint `sha256`
    /// ([`Config::files_fingerprint`]).
    pub(crate) fn new(
        path: PathBuf,
        sha256: String,
        (keys, include, reuse): (KeysConfig, Vec<String>, Option<Reuse>),
        clock: SharedClock,
        sink: Arc<dyn Sink>,
    ) -> Self {
        Self {
            path,
            clock,
            sink,
            in_force: Mutex::new(InForce {
                sha256,
                keys,
                include,
                rejected: None,
                stamp: None,
                reuse,
            }),
        }
    }

    /// The main file, as the server was given it.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// `f` of the `include` patterns and keys in force.
    pub(super) fn with_in_force<R>(&self, f: impl FnOnce(&[String], &KeysConfig) -> R) -> R {
        let in_force = self.in_force();
        f(&in_force.include, &in_force.keys)
    }

    /// The files the `include` in force names now.
    fn included(&self) -> Vec<PathBuf> {
        let patterns = self.in_force().include.clone();
        super::include::expand(&patterns, &self.path).unwrap_or_default()
    }

    fn in_force(&self) -> std::sync::MutexGuard<'_, InForce> {
        self.in_force.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the files and, if their content changed, validates and
    /// applies them. Blocking: with `quiet_rule` (where a writer's close
    /// may not have been seen) it waits for the files to be still for
    /// [`SETTLE`]. `still` says whether what was read is still what the
    /// writers left; if not, nothing is applied or refused.
    pub(super) fn once(&self, quiet_rule: bool, still: &dyn Fn() -> bool) -> Outcome {
        let path = &self.path;
        let unreadable = |file: &Path, e: std::io::Error| {
            format!(
                "{}: cannot read: {e}; keeping the configuration in force",
                file.display()
            )
        };
        // Taken before the read: a write after it changes the stamp, so the
        // content is looked at again.
        let included = self.included();
        let stamp = Stamp::of(path, &included, STAMP_SETTLED);
        let in_force = {
            let in_force = self.in_force();
            (stamp.is_some() && in_force.stamp == stamp).then(|| in_force.sha256.clone())
        };
        if let Some(outcome) = in_force.and_then(|hash| self.unchanged(&hash)) {
            return outcome;
        }
        let started = std::time::Instant::now();
        // Every file settled, and validated as read: an included file
        // caught half written is never applied.
        let mut included = included;
        let settle = if quiet_rule { SETTLE } else { Duration::ZERO };
        let files = loop {
            match read_settled(path, &included, settle) {
                Ok(files) => break files,
                // An included file removed meanwhile: the set of now.
                Err((file, e)) if file != *path && self.included() != included => {
                    tracing::debug!(file = %file.display(), "included file gone: {e}");
                    included = self.included();
                }
                Err(_) if !still() => return Outcome::Interrupted,
                Err((file, e)) => return self.reject(unreadable(&file, e)),
            }
        };
        if !still() {
            return Outcome::Interrupted;
        }
        let all = std::iter::once((path.as_path(), &files.main))
            .chain(files.included.iter().map(|(p, b)| (p.as_path(), b)));
        for (file, bytes) in all {
            if empty(bytes) {
                return self.reject(format!(
                    "{}: the file is empty; keeping the configuration in force",
                    file.display()
                ));
            }
        }
        let hash = super::include::fingerprint_of(&files.main, &files.included);
        if let Some(outcome) = self.unchanged(&hash) {
            self.in_force().stamp = stamp;
            return outcome;
        }
        let mut texts = Vec::with_capacity(files.included.len());
        for (file, bytes) in files.included {
            match String::from_utf8(bytes) {
                Ok(text) => texts.push((file, text)),
                Err(_) => return self.reject(format!("{}: not UTF-8 text", file.display())),
            }
        }
        let Ok(text) = String::from_utf8(files.main) else {
            return self.reject(format!("{}: not UTF-8 text", path.display()));
        };
        let given: Vec<(&Path, &str)> = texts
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        let settled = started.elapsed();
        // Taken out while validating; put back if the file is refused.
        let previous = self.in_force().reuse.take();
        let mut report = super::check_given(
            &text,
            path,
            (Overrides::Environment, self.clock.now()),
            previous.as_ref(),
            &given,
        );
        let validated = started.elapsed();
        if !still() {
            self.in_force().reuse = previous;
            return Outcome::Interrupted;
        }
        match report.config.take() {
            Some(config) => {
                for w in &report.warnings {
                    tracing::warn!("{}", w.render(path, Some("warning")));
                }
                // With the include of the new file, which may name others.
                let same_include = config.include == self.in_force().include;
                let (hash, stamp) = if same_include {
                    (hash, stamp)
                } else {
                    (config.files_fingerprint(path, text.as_bytes()), None)
                };
                {
                    let mut in_force = self.in_force();
                    in_force.sha256 = hash.clone();
                    in_force.stamp = stamp;
                    in_force.keys = config.keys.clone();
                    in_force.include = config.include.clone();
                    in_force.rejected = None;
                    in_force.reuse = report.reusable();
                }
                drop(previous);
                self.sink.apply(config, hash);
                tracing::debug!(
                    settle_ms = settled.as_millis() as u64,
                    validate_ms = (validated - settled).as_millis() as u64,
                    apply_ms = (started.elapsed() - validated).as_millis() as u64,
                    "reload timings"
                );
                Outcome::Applied
            }
            None => {
                self.in_force().reuse = previous;
                let error = ConfigError::Invalid {
                    file: path.to_owned(),
                    problems: report.errors,
                };
                self.reject(error.to_string())
            }
        }
    }

    /// `Some` when a file with `hash` needs no validation: it is the one in
    /// force and no declared key file it lists was replaced (a Secret
    /// update can change a key file under an unchanged config file).
    fn unchanged(&self, hash: &str) -> Option<Outcome> {
        let mut in_force = self.in_force();
        if in_force.sha256 != hash || in_force.keys.key_files_changed() {
            return None;
        }
        // Put back after a refused edit: the error no longer describes the
        // file, and nobody should be alerted by it any more.
        if in_force.rejected.take().is_some() {
            drop(in_force);
            tracing::info!(file = %self.path.display(), "the file is back to the configuration in force");
            self.sink.restored();
            return Some(Outcome::Restored);
        }
        Some(Outcome::Unchanged)
    }

    fn reject(&self, error: String) -> Outcome {
        let mut in_force = self.in_force();
        // Log each distinct problem once, not on every poll.
        if in_force.rejected.as_deref() != Some(error.as_str()) {
            tracing::error!("configuration not applied, the last good one keeps serving:\n{error}");
        }
        in_force.rejected = Some(error.clone());
        drop(in_force);
        self.sink.reject(error.clone());
        Outcome::Rejected(error)
    }
}

/// How old the files' last change must be for their stamp to stand for
/// their content: far more than a tick of the file clock.
const STAMP_SETTLED: Duration = Duration::from_secs(1);
