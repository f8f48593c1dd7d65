//! What the file system says of the config files, without reading them:
//! device, inode, size, modification and change times. The reloader reads
//! and hashes the files only when this changed since the content in force
//! was read, so a poll of a 22 MB file costs a few `stat`s, not a read and
//! a SHA-256 of it. An edit cannot keep all of it: a write changes the
//! change time (which no user can set), a rename the inode. File times
//! are coarse (a few milliseconds), so two writes close together can share
//! one: a file changed less than [`Stamp::of`]'s `settled` ago gives no
//! stamp, and its content decides.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{KeyMode, KeyStorage, KeysConfig};

/// The stamps of a set of files, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stamp(Vec<(PathBuf, FileStamp)>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    /// The stamps of `main` and `included` (symlinks followed, as a read
    /// follows them: a ConfigMap's `..data` swap changes the inode);
    /// `None` when one cannot be read or changed less than `settled` ago,
    /// so that the content decides.
    pub(super) fn of(main: &Path, included: &[PathBuf], settled: Duration) -> Option<Self> {
        std::iter::once(main)
            .chain(included.iter().map(PathBuf::as_path))
            .map(|p| {
                let stamp = file(p)?;
                (age(stamp.changed)? >= settled).then(|| (p.to_owned(), stamp))
            })
            .collect::<Option<Vec<_>>>()
            .map(Stamp)
    }
}

/// How long ago a file time was, by the file system's clock (this
/// machine's wall clock); a time in the future has no age.
fn age((seconds, nanos): (i64, i64)) -> Option<Duration> {
    let at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(seconds).ok()?)
        + Duration::from_nanos(u64::try_from(nanos).ok()?);
    file_age(at)
}

/// How long ago `at`, a time the file system wrote, was; a file from the
/// future counts as new (no age).
#[allow(clippy::disallowed_methods)]
pub(super) fn file_age(at: SystemTime) -> Option<Duration> {
    // Comparing two readings of the file system's clock, not deciding
    // anything by the time of day: no need for the server's clock.
    SystemTime::now().duration_since(at).ok()
}

#[cfg(unix)]
fn file(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        modified: (m.mtime(), m.mtime_nsec()),
        changed: (m.ctime(), m.ctime_nsec()),
    })
}

/// Elsewhere no stamp is trusted: every look reads the content.
#[cfg(not(unix))]
fn file(_: &Path) -> Option<FileStamp> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_write_a_rename_or_another_file_changes_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("identity.toml");
        let team = dir.path().join("team.toml");
        std::fs::write(&main, "a = 1\n").unwrap();
        std::fs::write(&team, "b = 1\n").unwrap();
        let now = Duration::ZERO;
        let first = Stamp::of(&main, &[], now).unwrap();
        assert_eq!(
            Stamp::of(&main, &[], now),
            Some(first.clone()),
            "nothing happened"
        );

        // Written in place (another size: two writes within one tick of
        // the file clock may share their times, which `settled` covers).
        std::fs::write(&main, "a = 22\n").unwrap();
        let written = Stamp::of(&main, &[], now).unwrap();
        assert_ne!(written, first);

        // Replaced by rename, as editors and `tollgate clients` do.
        let next = dir.path().join("next.toml");
        std::fs::write(&next, "a = 22\n").unwrap();
        std::fs::rename(&next, &main).unwrap();
        assert_ne!(Stamp::of(&main, &[], now).unwrap(), written);

        let with_team = Stamp::of(&main, std::slice::from_ref(&team), now).unwrap();
        assert_ne!(
            with_team,
            Stamp::of(&main, &[], now).unwrap(),
            "a file included"
        );
        assert_eq!(Stamp::of(&main, &[dir.path().join("gone.toml")], now), None);
        assert_eq!(
            Stamp::of(&main, &[], Duration::from_secs(3600)),
            None,
            "changed too recently to be told apart from the next change"
        );
    }
}
/// Declared key files are looked at by content too: a Kubernetes Secret
/// update can replace one under an unchanged config file.
impl KeysConfig {
    /// Whether a declared key file now differs from what was read (a
    /// Secret update can replace one under an unchanged config file).
    pub fn key_files_changed(&self) -> bool {
        let KeyMode::Declared { keys, .. } = &self.mode else {
            return false;
        };
        keys.iter().any(|k| match &k.source {
            KeyStorage::File { path, sha256 } => std::fs::read(path).map_or(true, |bytes| {
                tollgate_jose::digest::sha256(&bytes) != *sha256
            }),
            KeyStorage::Pkcs11(_) => false,
        })
    }
}
