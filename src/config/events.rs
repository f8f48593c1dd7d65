//! What a file-system event means to the reloader. The watched folders
//! hold other files too (a log written beside `identity.toml`) and anyone
//! reading the files causes events (an open is reported); counted, a
//! steady stream of those would hold every edit back. Counted: a creation,
//! a change, a removal or a rename (never a read or an open) of the main
//! file, of a file an `include` glob matches or could match (a team file
//! that appears), of a folder on the way to one, of a Kubernetes
//! ConfigMap's `..data` link and `..<version>` folders, or of a declared
//! key file. Of the files read, a write in place is told apart, and so is
//! its writer's close (where the platform reports it: `writes`).

use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{Event, EventKind};

use super::{KeyMode, KeysConfig};

/// What one event means.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Effect {
    /// It cannot change the configuration.
    Ignored,
    /// Something that counts changed: look after the debounce.
    Changed,
    /// A file read was written in place (or created empty, to be
    /// written): it is read once its writer closes it.
    Written(PathBuf),
    /// A file read was closed after writing, removed or renamed: nothing
    /// of it is waited for any more, and it counts.
    Closed(PathBuf),
    /// The watcher lost events: anything may have changed.
    Lost,
}

/// The paths whose events count, named as the watch names them.
pub(super) struct Relevant {
    /// The config file's folder, absolute; events name paths under it.
    folder: PathBuf,
    /// The main file.
    main: PathBuf,
    /// The `include` globs, each with the globs of its first components
    /// (`/c/teams/*`), which folders on the way to a match match.
    patterns: Vec<(glob::Pattern, Vec<glob::Pattern>)>,
    /// The fixed folders the globs start from (`clients.d`).
    pattern_folders: Vec<PathBuf>,
    /// Declared key files.
    files: Vec<PathBuf>,
}

/// `*` does not cross a `/`, as when the globs are expanded.
const MATCH: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

impl Relevant {
    /// For the main file `main` in `folder` (the folder the config names,
    /// maybe relative) watched as `watched`, with the `include` patterns
    /// and keys in force.
    pub(super) fn new(
        main: &Path,
        (folder, watched): (&Path, &Path),
        include: &[String],
        keys: &KeysConfig,
    ) -> Self {
        let place = |p: &Path| place(p, folder, watched);
        let mut patterns = Vec::new();
        let mut pattern_folders = Vec::new();
        for pattern in include {
            let placed = place(Path::new(pattern));
            if let Ok(whole) = glob::Pattern::new(&placed.to_string_lossy()) {
                let parts: Vec<_> = placed.components().collect();
                let firsts = (1..parts.len())
                    .filter_map(|n| {
                        let first: PathBuf = parts[..n].iter().collect();
                        glob::Pattern::new(&first.to_string_lossy()).ok()
                    })
                    .collect();
                patterns.push((whole, firsts));
            }
            pattern_folders.push(fixed_folder(&placed));
        }
        Self {
            folder: watched.to_owned(),
            main: place(main),
            patterns,
            pattern_folders,
            files: key_files(keys).iter().map(|f| place(f)).collect(),
        }
    }

    /// What `event` means for the configuration.
    pub(super) fn effect(&self, event: &Event) -> Effect {
        if event.need_rescan() || event.paths.is_empty() {
            return Effect::Lost;
        }
        let read = event.paths.iter().find(|p| self.read(p));
        match (event.kind, read) {
            (EventKind::Access(AccessKind::Close(AccessMode::Write)), Some(p)) => {
                Effect::Closed(p.clone())
            }
            // A read, an open, a close after reading: nothing changed.
            (EventKind::Access(_), _) => Effect::Ignored,
            (EventKind::Modify(ModifyKind::Data(_)), Some(p)) => Effect::Written(p.clone()),
            // Created by an open: written, then closed. A link or a file
            // renamed into place is whole at once (and never empty).
            (EventKind::Create(CreateKind::File), Some(p)) if created_empty(p) => {
                Effect::Written(p.clone())
            }
            (EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)), Some(p)) => {
                Effect::Closed(p.clone())
            }
            (_, Some(_)) => Effect::Changed,
            (kind, None) if event.paths.iter().any(|p| self.on_the_way(p, kind)) => Effect::Changed,
            (_, None) => Effect::Ignored,
        }
    }

    /// Whether `path` is a file the configuration is read from.
    fn read(&self, path: &Path) -> bool {
        path == self.main
            || self.files.iter().any(|f| f == path)
            || self
                .patterns
                .iter()
                .any(|(whole, _)| whole.matches_path_with(path, MATCH))
    }

    /// Whether `path` can lead to a file read: a ConfigMap's links and
    /// folders, or a folder an `include` glob reaches files through
    /// (`kind` may be about a folder: a file's writes are not).
    fn on_the_way(&self, path: &Path, kind: EventKind) -> bool {
        // A ConfigMap volume, in the folder or mounted where team files
        // are: `..data`, `..data_tmp`, `..2026_11_25_…`.
        let configmap = std::iter::once(&self.folder)
            .chain(&self.pattern_folders)
            .any(|volume| {
                path.strip_prefix(volume).is_ok_and(|rest| {
                    rest.components()
                        .next()
                        .is_some_and(|c| c.as_os_str().to_string_lossy().starts_with(".."))
                })
            });
        // A folder of team files created or renamed into place, or one
        // on the way to them (`teams/*/clients.toml`).
        let depth = path.components().count();
        let about_a_file = matches!(
            kind,
            EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Metadata(_))
                | EventKind::Create(CreateKind::File)
                | EventKind::Remove(notify::event::RemoveKind::File)
        );
        configmap
            || (!about_a_file
                && path != self.folder
                && self.patterns.iter().any(|(_, firsts)| {
                    firsts
                        .iter()
                        .enumerate()
                        .any(|(n, first)| n + 1 == depth && first.matches_path_with(path, MATCH))
                        || below_a_double_star(firsts, path)
                }))
    }
}

/// Whether `path` is under the part of a glob before its `**` (which any
/// folder beneath can lead to a match through).
fn below_a_double_star(firsts: &[glob::Pattern], path: &Path) -> bool {
    let Some(star) = firsts.iter().position(|f| f.as_str().ends_with("**")) else {
        return false;
    };
    let before: PathBuf = path.components().take(star).collect();
    star == 0 || firsts[star - 1].matches_path_with(&before, MATCH)
}

/// A regular file of no bytes: created by an open, to be written.
fn created_empty(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0)
}

/// The declared key files.
pub(super) fn key_files(keys: &KeysConfig) -> Vec<&Path> {
    match &keys.mode {
        KeyMode::Declared { keys, .. } => keys.iter().filter_map(|k| k.file()).collect(),
        KeyMode::Automatic { .. } => Vec::new(),
    }
}

/// `path` (relative paths start from the process's folder, as the config
/// names them) as the watch names it: under `watched` when it is under
/// the config's `folder`.
pub(super) fn place(path: &Path, folder: &Path, watched: &Path) -> PathBuf {
    match path.strip_prefix(folder) {
        Ok(rest) => watched.join(rest),
        // `identity.toml` in the process's folder, named without `./`.
        Err(_) if path.is_relative() && folder == Path::new(".") => watched.join(path),
        Err(_) => std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
    }
}

/// The part of a glob before its first wildcard, as a folder: what must
/// exist for the glob to match anything.
pub(super) fn fixed_folder(pattern: &Path) -> PathBuf {
    let fixed: PathBuf = pattern
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    if fixed == pattern {
        fixed.parent().map(Path::to_owned).unwrap_or_default()
    } else {
        fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{DataChange, RemoveKind, RenameMode};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    fn relevant_for(include: &str) -> Relevant {
        let keys = KeysConfig {
            sealing: crate::keys::sealing::SealingSource::Missing,
            mode: KeyMode::Automatic {
                dir: "keys".into(),
                rotation: crate::keys::auto::Rotation::default(),
            },
            jwks_max_age: std::time::Duration::from_secs(60),
        };
        Relevant::new(
            Path::new("conf/identity.toml"),
            (Path::new("conf"), Path::new("/srv/conf")),
            &[include.to_owned()],
            &keys,
        )
    }

    const WRITE: EventKind = EventKind::Modify(ModifyKind::Data(DataChange::Any));
    const CLOSE_WRITE: EventKind = EventKind::Access(AccessKind::Close(AccessMode::Write));

    #[test]
    fn only_changes_to_the_files_that_make_the_configuration_count() {
        let relevant = relevant_for("conf/clients.d/*.toml");
        let changed = [
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                "/srv/conf/identity.toml",
            ),
            event(
                EventKind::Create(CreateKind::File),
                "/srv/conf/clients.d/new.toml",
            ),
            event(EventKind::Create(CreateKind::Folder), "/srv/conf/clients.d"),
            event(EventKind::Create(CreateKind::Any), "/srv/conf/..data_tmp"),
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                "/srv/conf/clients.d/..data",
            ),
            event(
                EventKind::Remove(RemoveKind::Any),
                "/srv/conf/..2026_11_25_v1/identity.toml",
            ),
        ];
        for e in &changed {
            assert_ne!(relevant.effect(e), Effect::Ignored, "{e:?}");
        }
        let ignored = [
            event(WRITE, "/srv/conf/server.log"),
            event(CLOSE_WRITE, "/srv/conf/server.log"),
            event(
                EventKind::Access(AccessKind::Any),
                "/srv/conf/identity.toml",
            ),
            event(
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                "/srv/conf/identity.toml",
            ),
            event(WRITE, "/srv/conf/clients.d/notes.txt"),
            event(WRITE, "/srv/conf/keys/2026.pem"),
            event(EventKind::Create(CreateKind::Folder), "/srv/conf/target"),
            event(WRITE, "/srv/conf/clients.d/deeper/a.toml"),
        ];
        for e in &ignored {
            assert_eq!(relevant.effect(e), Effect::Ignored, "{e:?}");
        }
    }

    #[test]
    fn a_write_in_place_is_told_apart_from_its_close() {
        let relevant = relevant_for("conf/clients.d/*.toml");
        let main = PathBuf::from("/srv/conf/identity.toml");
        let team = PathBuf::from("/srv/conf/clients.d/a.toml");
        assert_eq!(
            relevant.effect(&event(WRITE, "/srv/conf/identity.toml")),
            Effect::Written(main.clone())
        );
        assert_eq!(
            relevant.effect(&event(CLOSE_WRITE, "/srv/conf/clients.d/a.toml")),
            Effect::Closed(team.clone())
        );
        assert_eq!(
            relevant.effect(&event(
                EventKind::Remove(RemoveKind::File),
                "/srv/conf/identity.toml"
            )),
            Effect::Closed(main)
        );
        assert_eq!(
            relevant.effect(&Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan)),
            Effect::Lost
        );
    }

    #[test]
    fn folders_on_the_way_to_a_glob_count() {
        let relevant = relevant_for("conf/teams/*/clients.toml");
        let folder = |p: &str| event(EventKind::Create(CreateKind::Folder), p);
        assert_eq!(relevant.effect(&folder("/srv/conf/teams")), Effect::Changed);
        assert_eq!(
            relevant.effect(&folder("/srv/conf/teams/new")),
            Effect::Changed
        );
        assert_eq!(
            relevant.effect(&folder("/srv/conf/teams/new/deeper")),
            Effect::Ignored
        );
        assert_eq!(
            relevant.effect(&folder("/srv/conf/target")),
            Effect::Ignored
        );

        let deep = relevant_for("conf/teams/**/*.toml");
        assert_eq!(
            deep.effect(&folder("/srv/conf/teams/a/b/c")),
            Effect::Changed
        );
        assert_eq!(deep.effect(&folder("/srv/conf/target/a")), Effect::Ignored);
        let everywhere = relevant_for("conf/**/*.toml");
        assert_eq!(
            everywhere.effect(&event(WRITE, "/srv/conf/server.log")),
            Effect::Ignored,
            "a file's writes never lead to another file"
        );
    }
}
