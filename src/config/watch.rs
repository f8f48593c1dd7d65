//! Live reload's loop: watch the folders of the files the configuration
//! is read from (`watched`; editors write a temporary file and rename it,
//! Kubernetes swaps the `..data` symlink of a ConfigMap volume: both are
//! events in the folder, not on the file), debounce, wait for the writer
//! of a file written in place to close it (`writes`), and have the
//! [`Reload`] look. A slow poll backs the watcher up, for filesystems that
//! do not report events; SIGHUP (or anything holding a [`Trigger`]) asks
//! at once. No event is logged: with the log written into a watched
//! folder, a line per event would be an event per line, for ever.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use notify::{Watcher, WatcherKind};
use tokio::sync::mpsc;

use super::events::{Effect, Relevant};
use super::reload::{Outcome, Reload};
use super::watched::{Watched, folders};
use super::writes::Writes;

/// Quiet time after the last event before reading the file: an editor's
/// save is several events, a ConfigMap update a handful.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// The longest the debounce waits after the first event, however many
/// follow: a file whose events never pause is still looked at.
const DEBOUNCE_LIMIT: Duration = Duration::from_millis(700);
/// The fallback poll.
const POLL: Duration = Duration::from_secs(5);

/// Why the loop looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// The watcher reported a change.
    Event,
    /// SIGHUP, or a look after folders were added to the watch.
    Asked,
}

/// Keeps the watcher alive; reloading stops when it is dropped.
pub(crate) struct Reloader {
    _watched: Arc<Mutex<Watched>>,
    trigger: Trigger,
    task: tokio::task::JoinHandle<()>,
}

/// Asks the reloader to look at the files now (SIGHUP).
#[derive(Clone)]
pub(crate) struct Trigger(mpsc::UnboundedSender<Wake>);

impl Trigger {
    pub(crate) fn reload(&self) {
        let _ = self.0.send(Wake::Asked);
    }
}

impl Reloader {
    pub(crate) fn trigger(&self) -> Trigger {
        self.trigger.clone()
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the watcher's thread and the loop share.
struct Shared {
    reload: Arc<Reload>,
    /// The config file's folder as the config names it, and absolute.
    folder: (PathBuf, PathBuf),
    /// Which events count, for the configuration in force.
    relevant: ArcSwap<Relevant>,
    writes: Writes,
    /// Whether the platform reports a writer's close (inotify does).
    closes: bool,
}

impl Shared {
    fn relevant(&self) -> Relevant {
        let (folder, watched) = (&self.folder.0, &self.folder.1);
        self.reload.with_in_force(|include, keys| {
            Relevant::new(self.reload.path(), (folder, watched), include, keys)
        })
    }

    /// Watches the folders of the configuration in force; `true` when one
    /// was added.
    fn rewatch(&self, watched: &Mutex<Watched>) -> bool {
        let (folder, absolute) = (&self.folder.0, &self.folder.1);
        let wanted = self
            .reload
            .with_in_force(|include, keys| folders((folder, absolute), include, keys));
        // Not while the watcher's thread could wait for the lock.
        let (added, now) = {
            let mut watched = watched.lock().unwrap_or_else(|p| p.into_inner());
            (watched.set(wanted), watched.folders())
        };
        self.relevant.store(Arc::new(self.relevant()));
        self.writes.keep_under(&now);
        added
    }

    /// One look at the files (blocking); `true` when folders were added
    /// to the watch after it, so that files already in them are looked at.
    fn look(&self, watched: &Mutex<Watched>, reported: bool, after: fn()) -> bool {
        let added = self.rewatch(watched);
        // A write in place was waited for to its close: the files are
        // read as they are. Where closes are not reported, or the change
        // may not have been (the poll, SIGHUP, a folder just watched),
        // they are read once quiet.
        let quiet_rule = !(self.closes && reported && !added);
        let mark = self.writes.mark();
        let still = || !self.closes || self.writes.still_since(mark);
        let outcome = self.reload.once(quiet_rule, &still);
        if !matches!(outcome, Outcome::Unchanged | Outcome::Interrupted) {
            after();
        }
        self.rewatch(watched)
    }
}

/// Starts watching the folders of the configuration's files and reloading
/// through `reload`. `after` runs after each reload that read a file (to
/// trim memory).
pub(crate) fn watch(reload: Arc<Reload>, after: fn()) -> notify::Result<Reloader> {
    let folder = super::folder_of(reload.path()).to_owned();
    // Absolute, so that events name paths the way [`Relevant`] does.
    let absolute = folder.canonicalize().map_err(notify::Error::io)?;
    let shared = {
        let relevant = reload.with_in_force(|include, keys| {
            Relevant::new(reload.path(), (&folder, &absolute), include, keys)
        });
        Arc::new(Shared {
            reload,
            folder: (folder, absolute.clone()),
            relevant: ArcSwap::from_pointee(relevant),
            writes: Writes::default(),
            closes: notify::RecommendedWatcher::kind() == WatcherKind::Inotify,
        })
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Wake>();
    let watcher = {
        let (shared, events) = (shared.clone(), tx.clone());
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Only what can change the configuration (through renames and
            // symlinks too); the content hash decides.
            let Ok(event) = event else { return };
            match shared.relevant.load().effect(&event) {
                Effect::Ignored => return,
                Effect::Written(file) if shared.closes => shared.writes.written(&file),
                Effect::Written(_) | Effect::Changed => {}
                Effect::Closed(file) => shared.writes.closed(&file),
                Effect::Lost => shared.writes.forget(),
            }
            let _ = events.send(Wake::Event);
        })?
    };
    let watched = Arc::new(Mutex::new(Watched::new(watcher, &absolute)?));
    shared.rewatch(&watched);
    let task = {
        let (watched, again) = (watched.clone(), tx.clone());
        tokio::spawn(async move {
            let mut poll = tokio::time::interval(POLL);
            poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let reported = tokio::select! {
                    wake = rx.recv() => match wake {
                        Some(wake) => debounce(&mut rx, wake).await,
                        None => break,
                    },
                    _ = poll.tick() => false,
                };
                // A file is being written in place: its close wakes us.
                if shared.closes && shared.writes.waiting() {
                    continue;
                }
                let (shared, watched) = (shared.clone(), watched.clone());
                // Reading and validating a large file is blocking work.
                let looked =
                    tokio::task::spawn_blocking(move || shared.look(&watched, reported, after));
                if looked.await.unwrap_or(false) {
                    let _ = again.send(Wake::Asked);
                }
            }
        })
    };
    Ok(Reloader {
        _watched: watched,
        trigger: Trigger(tx),
        task,
    })
}

/// Waits until no wake came for [`DEBOUNCE`], but no longer than
/// [`DEBOUNCE_LIMIT`] after `first`; `true` when every wake was an event
/// (none was asked for).
async fn debounce(rx: &mut mpsc::UnboundedReceiver<Wake>, first: Wake) -> bool {
    let mut reported = first == Wake::Event;
    let limit = tokio::time::Instant::now() + DEBOUNCE_LIMIT;
    loop {
        let quiet = DEBOUNCE.min(limit - tokio::time::Instant::now().min(limit));
        if quiet.is_zero() {
            return reported;
        }
        match tokio::time::timeout(quiet, rx.recv()).await {
            Ok(Some(wake)) => reported &= wake == Wake::Event,
            _ => return reported,
        }
    }
}
