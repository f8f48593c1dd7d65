//! The configuration's files that a writer has open, as the platform
//! reports it: inotify says when a file was written (`IN_MODIFY`) and when
//! its writer closed it (`IN_CLOSE_WRITE`). A file written in place is
//! read only after that close, however long its writer pauses half-way:
//! half a file may well be valid, and applying it would apply a rule
//! without its condition. Where closes are not reported this stays empty,
//! and the quiet-period rule of `files` is all there is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a file may stay open for writing before the operator is told
/// that its edits wait for the close (once per file).
const TELL_AFTER: Duration = Duration::from_secs(30);

/// Files open for writing, and a count of the writes seen.
#[derive(Default)]
pub(super) struct Writes(Mutex<State>);

#[derive(Default)]
struct State {
    /// Each file written and not closed since, with when its writes began
    /// and whether the operator was told it stays open.
    open: HashMap<PathBuf, (Instant, bool)>,
    /// Writes seen so far: a reload that read before one of them does not
    /// apply what it read.
    seen: u64,
}

/// A moment in the writes, taken before a reload reads the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark(u64);

impl Writes {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `path` was written to: it is read once its writer closes it.
    pub(super) fn written(&self, path: &Path) {
        let mut state = self.state();
        state.seen += 1;
        state
            .open
            .entry(path.to_owned())
            .or_insert((Instant::now(), false));
    }

    /// `path` was closed by its writer, removed or renamed: no write of
    /// it is to be waited for any more.
    pub(super) fn closed(&self, path: &Path) {
        self.state().open.remove(path);
    }

    /// The watcher lost events (its queue overflowed): closes may be among
    /// them, so nothing is waited for; the files are read as they are.
    pub(super) fn forget(&self) {
        self.state().open.clear();
    }

    /// Forgets the files outside `folders`, no longer watched: their close
    /// would never be reported.
    pub(super) fn keep_under(&self, folders: &[PathBuf]) {
        self.state().open.retain(|file, _| {
            file.parent()
                .is_some_and(|p| folders.iter().any(|f| f == p))
        });
    }

    /// Whether a file is open for writing now. The first time one has been
    /// for [`TELL_AFTER`], says so in the log: its edits wait for it.
    pub(super) fn waiting(&self) -> bool {
        let mut state = self.state();
        for (file, (since, told)) in &mut state.open {
            if !*told && since.elapsed() >= TELL_AFTER {
                *told = true;
                tracing::warn!(
                    file = %file.display(),
                    "the file has been open for writing for {} s; its edits apply once its writer closes it",
                    TELL_AFTER.as_secs()
                );
            }
        }
        !state.open.is_empty()
    }

    /// Now, to compare with after a read.
    pub(super) fn mark(&self) -> Mark {
        Mark(self.state().seen)
    }

    /// Whether no file is open for writing and none was written since
    /// `mark`: what was read then is what the writers left.
    pub(super) fn still_since(&self, mark: Mark) -> bool {
        let state = self.state();
        state.open.is_empty() && state.seen == mark.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_is_waited_for_until_its_writer_closes_it() {
        let writes = Writes::default();
        let (main, team) = (Path::new("/c/identity.toml"), Path::new("/c/t/a.toml"));
        let before = writes.mark();
        assert!(!writes.waiting() && writes.still_since(before));

        writes.written(main);
        writes.written(team);
        assert!(writes.waiting());
        writes.closed(main);
        assert!(writes.waiting(), "the team file is still open");
        writes.closed(team);
        assert!(!writes.waiting());
        assert!(
            !writes.still_since(before),
            "written since the mark: what was read before is stale"
        );
        assert!(writes.still_since(writes.mark()));

        writes.written(team);
        writes.keep_under(&[PathBuf::from("/c")]);
        assert!(!writes.waiting(), "its folder is no longer watched");
        writes.written(main);
        writes.forget();
        assert!(!writes.waiting(), "events were lost");
    }
}
