//! Key files: folders created 0700, files written 0600 and atomically, an
//! existing file never overwritten, a broken one never replaced (replacing
//! it would invalidate every token it signed).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{KeyError, SigningKey};

#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyStoreError {
    #[error("key folder {dir}: {source}")]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {file}: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "key file {file}: {error}; fix or remove it (a new key would invalidate every issued token)"
    )]
    Bad { file: PathBuf, error: KeyError },
    #[error(
        "key folder {dir}: the keys in force ({}) are gone from it; the keys in memory keep \
         serving and no key is created or deleted until the folder is restored (or the server \
         restarts, creating a new key)",
        kids.join(", ")
    )]
    Vanished { dir: PathBuf, kids: Vec<String> },
}

/// Creates `dir` (and its parents) private to the owner if it is missing.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), KeyStoreError> {
    if dir.exists() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| KeyStoreError::Folder {
            dir: dir.to_owned(),
            source,
        })
}

/// Writes to a private temporary file, then links it into place, so that a
/// reader never sees half a key and an existing file is never overwritten
/// (`AlreadyExists` then).
pub fn write_new(file: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::hard_link(&tmp, file)
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Removes what [`write_new`] leaves when the process dies between
/// writing and linking: a temporary file holding a whole private key.
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") && name.contains(".pem.") {
            match fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %entry.path().display(), "stale temporary key file removed")
                }
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "stale temporary key file not removed")
                }
            }
        }
    }
}

/// Reads and parses one key file.
pub(crate) fn read_key(file: &Path) -> Result<SigningKey, KeyStoreError> {
    let pem = fs::read_to_string(file).map_err(|source| KeyStoreError::Io {
        file: file.to_owned(),
        source,
    })?;
    if readable_by_others(file) {
        tracing::warn!(file = %file.display(), "signing key file is readable by other users; chmod 600 (or 640) it");
    }
    SigningKey::from_pkcs8_pem(&pem).map_err(|error| KeyStoreError::Bad {
        file: file.to_owned(),
        error,
    })
}

/// Whether users other than the owner and its group may read `file` (or
/// its target). Group access is allowed: a Kubernetes Secret volume with
/// `fsGroup` makes files group-readable, and that group is the pod's.
pub(crate) fn readable_by_others(file: &Path) -> bool {
    fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}
