//! Which folders the reloader watches: each folder that holds a file the
//! configuration is read from, or could be (the main file's; each one an
//! `include` glob reaches files in, now or once a team file appears; each
//! one holding a declared key file), and never their subtrees. With
//! `identity.toml` at a repository's root, a build's `target/` beside it
//! costs no watch. The set is computed again after every reload, since an
//! edit can name other files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use notify::{RecursiveMode, Watcher};

use super::KeysConfig;
use super::events::{fixed_folder, key_files, place};

/// The folders to watch, named as the watch names them: the config file's
/// `folder` (maybe relative) is `watched`.
pub(super) fn folders(
    (folder, watched): (&Path, &Path),
    include: &[String],
    keys: &KeysConfig,
) -> BTreeSet<PathBuf> {
    let place = |p: &Path| place(p, folder, watched);
    let mut found = BTreeSet::from([watched.to_owned()]);
    for pattern in include {
        let placed = place(Path::new(pattern));
        let fixed = fixed_folder(&placed);
        // Not there yet: the nearest folder above sees it created.
        found.insert(existing(&fixed));
        // The folders its wildcards match on the way to a file
        // (`teams/*/clients.toml`: each `teams/<team>`).
        let parts: Vec<_> = placed.components().collect();
        for n in fixed.components().count() + 1..parts.len() {
            let first: PathBuf = parts[..n].iter().collect();
            if let Ok(paths) = glob::glob(&first.to_string_lossy()) {
                found.extend(paths.flatten().filter(|p| p.is_dir()));
            }
        }
    }
    for file in key_files(keys) {
        if let Some(parent) = place(file).parent() {
            found.insert(existing(parent));
        }
    }
    found
}

/// `folder`, or the nearest folder above it that exists.
fn existing(folder: &Path) -> PathBuf {
    folder
        .ancestors()
        .find(|f| f.is_dir())
        .unwrap_or(folder)
        .to_owned()
}

/// The watcher and the folders it watches, each with its inode when it
/// was watched (a folder deleted and made again is watched again).
pub(super) struct Watched {
    watcher: notify::RecommendedWatcher,
    folders: BTreeMap<PathBuf, u64>,
}

impl Watched {
    /// Watches the config file's folder with `watcher`: without it no
    /// reload is seen, so it must succeed.
    pub(super) fn new(
        mut watcher: notify::RecommendedWatcher,
        folder: &Path,
    ) -> notify::Result<Self> {
        watcher.watch(folder, RecursiveMode::NonRecursive)?;
        Ok(Self {
            watcher,
            folders: BTreeMap::from([(folder.to_owned(), inode(folder))]),
        })
    }

    /// The folders watched now.
    pub(super) fn folders(&self) -> Vec<PathBuf> {
        self.folders.keys().cloned().collect()
    }

    /// Watches `wanted` and nothing else; `true` when a folder was added
    /// (the events of its files so far were not seen). A folder that
    /// cannot be watched now is tried again next time; the poll covers it
    /// meanwhile.
    pub(super) fn set(&mut self, wanted: BTreeSet<PathBuf>) -> bool {
        let gone: Vec<PathBuf> = self
            .folders
            .keys()
            .filter(|f| !wanted.contains(*f))
            .cloned()
            .collect();
        for folder in &gone {
            self.folders.remove(folder);
            // Already gone with its folder: nothing to undo.
            let _ = self.watcher.unwatch(folder);
        }
        let mut added = false;
        for folder in wanted {
            let ino = inode(&folder);
            if self.folders.get(&folder) == Some(&ino) {
                continue;
            }
            match self.watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.folders.insert(folder, ino);
                    added = true;
                }
                Err(e) => {
                    self.folders.remove(&folder);
                    tracing::debug!(folder = %folder.display(), "not watched for now: {e}");
                }
            }
        }
        if added || !gone.is_empty() {
            tracing::debug!(folders = self.folders.len(), "watched folders changed");
        }
        added
    }
}

#[cfg(unix)]
fn inode(folder: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(folder).map_or(0, |m| m.ino())
}

/// Elsewhere a folder made again under the same name is not noticed; the
/// poll covers it.
#[cfg(not(unix))]
fn inode(_: &Path) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn automatic() -> KeysConfig {
        KeysConfig {
            sealing: crate::keys::sealing::SealingSource::Missing,
            mode: super::super::KeyMode::Automatic {
                dir: "keys".into(),
                rotation: crate::keys::auto::Rotation::default(),
            },
            jwks_max_age: std::time::Duration::from_secs(60),
        }
    }

    #[test]
    fn the_folders_of_files_read_are_watched_not_their_subtrees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for sub in [
            "target/debug/deps",
            "teams/a",
            "teams/b/deeper",
            "clients.d",
        ] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let include = |p: &str| vec![root.join(p).to_string_lossy().into_owned()];
        let at = (root.as_path(), root.as_path());
        assert_eq!(
            folders(at, &[], &automatic()),
            BTreeSet::from([root.clone()]),
            "the config file's folder alone, target/ beside it or not"
        );
        assert_eq!(
            folders(at, &include("clients.d/*.toml"), &automatic()),
            BTreeSet::from([root.clone(), root.join("clients.d")])
        );
        assert_eq!(
            folders(at, &include("teams/*/clients.toml"), &automatic()),
            BTreeSet::from([
                root.clone(),
                root.join("teams"),
                root.join("teams/a"),
                root.join("teams/b")
            ]),
            "each folder a team file can appear in"
        );
        assert_eq!(
            folders(at, &include("later/*.toml"), &automatic()),
            BTreeSet::from([root.clone()]),
            "a folder not made yet: the one above sees it made"
        );
        let (key, _) = crate::keys::SigningKey::generate(crate::keys::Algorithm::EdDSA).unwrap();
        let declared = KeysConfig {
            sealing: crate::keys::sealing::SealingSource::Missing,
            mode: super::super::KeyMode::declared(vec![super::super::DeclaredKey {
                source: super::super::KeyStorage::File {
                    path: root.join("clients.d/2026.pem"),
                    sha256: [0; 32],
                },
                key: std::sync::Arc::new(key),
                activate_at: time::OffsetDateTime::UNIX_EPOCH,
                retire_at: None,
            }]),
            jwks_max_age: std::time::Duration::from_secs(60),
        };
        assert_eq!(
            folders(at, &[], &declared),
            BTreeSet::from([root.clone(), root.join("clients.d")]),
            "the folder of a declared key file"
        );
    }
}
