//! The key folder: created 0700, key files written 0600 and atomically, an
//! existing key always reused, a broken one never replaced (replacing it
//! would invalidate every token in flight).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{KeyError, KeySet, SigningKey};

/// The file the automatic key lives in.
pub const ACTIVE_KEY_FILE: &str = "signing-es256.pem";

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
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
        "key file {file}: {source}; fix or remove it (a new key would invalidate every issued token)"
    )]
    Bad { file: PathBuf, source: KeyError },
}

/// Loads the signing key from `dir`, generating it on first start.
pub fn load_or_generate(dir: &Path) -> Result<KeySet, KeyStoreError> {
    let folder_err = |source| KeyStoreError::Folder {
        dir: dir.to_owned(),
        source,
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(folder_err)?;
    }
    let file = dir.join(ACTIVE_KEY_FILE);
    match fs::read_to_string(&file) {
        Ok(pem) => {
            warn_if_readable_by_others(&file);
            let key = SigningKey::from_pkcs8_pem(&pem).map_err(|source| KeyStoreError::Bad {
                file: file.clone(),
                source,
            })?;
            tracing::info!(kid = key.kid(), file = %file.display(), "signing key loaded");
            Ok(KeySet::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, pem) = SigningKey::generate().map_err(|source| KeyStoreError::Bad {
                file: file.clone(),
                source,
            })?;
            match write_new(dir, &file, pem.as_bytes()) {
                Ok(()) => {
                    tracing::info!(kid = key.kid(), file = %file.display(), "signing key generated");
                    Ok(KeySet::new(key))
                }
                // Another replica on the same folder won the race: use its key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_generate(dir),
                Err(source) => Err(KeyStoreError::Io { file, source }),
            }
        }
        Err(source) => Err(KeyStoreError::Io { file, source }),
    }
}

/// Writes to a private temporary file, then links it into place so that a
/// reader never sees half a key and an existing key is never overwritten.
fn write_new(dir: &Path, file: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{ACTIVE_KEY_FILE}.{}.tmp", std::process::id()));
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

fn warn_if_readable_by_others(file: &Path) {
    if let Ok(meta) = fs::metadata(file)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %file.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "signing key file is readable by group or others; chmod 600 it"
        );
    }
}
