//! Which file-system events the reloader counts: those that can change
//! the configuration. The watch covers the config file's whole folder, so
//! it also sees a log written beside `identity.toml`, or anyone reading
//! the files (an open is reported); counted, a steady stream of those
//! would hold every edit back. Counted: a creation, a change, a removal
//! or a rename (never a read or an open) of the main file, of a file an
//! `include` glob matches or could match (a team file that appears), of
//! a folder on the way to one, of a Kubernetes ConfigMap's `..data` link
//! and `..<version>` folders, or of a declared key file.

use std::path::{Path, PathBuf};

use notify::{Event, EventKind};

use super::{KeyMode, KeysConfig};

/// The paths whose events count, named as the watch names them.
pub(super) struct Relevant {
    /// The watched folder, absolute; events name paths under it.
    folder: PathBuf,
    /// The main file.
    main: PathBuf,
    /// The `include` globs.
    patterns: Vec<glob::Pattern>,
    /// The fixed folders the globs start from (`clients.d`).
    pattern_folders: Vec<PathBuf>,
    /// Declared key files.
    files: Vec<PathBuf>,
}

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
            if let Ok(p) = glob::Pattern::new(&placed.to_string_lossy()) {
                patterns.push(p);
            }
            pattern_folders.push(fixed_folder(&placed));
        }
        let files = match &keys.mode {
            KeyMode::Declared { keys, .. } => {
                keys.iter().filter_map(|k| k.file()).map(place).collect()
            }
            KeyMode::Automatic { .. } => Vec::new(),
        };
        Self {
            folder: watched.to_owned(),
            main: place(main),
            patterns,
            pattern_folders,
            files,
        }
    }

    /// Whether `event` can change the configuration.
    pub(super) fn counts(&self, event: &Event) -> bool {
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        // The watcher lost track (an overflow): anything may have changed.
        if event.need_rescan() || event.paths.is_empty() {
            return true;
        }
        event.paths.iter().any(|p| self.concerns(p))
    }

    fn concerns(&self, path: &Path) -> bool {
        if path == self.main || self.files.iter().any(|f| f == path) {
            return true;
        }
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
        configmap
            || self.patterns.iter().any(|p| p.matches_path(path))
            // A folder of team files created or renamed into place.
            || self.pattern_folders.iter().any(|f| f.starts_with(path) && path != self.folder)
    }
}

/// `path` (relative paths start from the process's folder, as the config
/// names them) as the watch names it: under `watched` when it is under
/// the config's `folder`.
fn place(path: &Path, folder: &Path, watched: &Path) -> PathBuf {
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
    use notify::event::{AccessKind, CreateKind, DataChange, ModifyKind, RenameMode};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn only_changes_to_the_files_that_make_the_configuration_count() {
        let keys = KeysConfig {
            mode: KeyMode::Automatic {
                dir: "keys".into(),
                rotation: crate::keys::auto::Rotation::default(),
            },
            jwks_max_age: std::time::Duration::from_secs(60),
        };
        let relevant = Relevant::new(
            Path::new("conf/identity.toml"),
            (Path::new("conf"), Path::new("/srv/conf")),
            &["conf/clients.d/*.toml".to_owned()],
            &keys,
        );
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        let counted = [
            event(write, "/srv/conf/identity.toml"),
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
                EventKind::Remove(notify::event::RemoveKind::Any),
                "/srv/conf/..2026_11_25_v1/identity.toml",
            ),
        ];
        for e in &counted {
            assert!(relevant.counts(e), "{e:?}");
        }
        let ignored = [
            event(write, "/srv/conf/server.log"),
            event(
                EventKind::Access(AccessKind::Any),
                "/srv/conf/identity.toml",
            ),
            event(write, "/srv/conf/clients.d/notes.txt"),
            event(write, "/srv/conf/keys/2026.pem"),
        ];
        for e in &ignored {
            assert!(!relevant.counts(e), "{e:?}");
        }
    }
}
