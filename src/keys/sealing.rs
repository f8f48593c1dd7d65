//! The key that seals what people's sign-in hands out (codes, refresh
//! tokens, the session cookie): read from `[keys] sealing_key_file`, or,
//! with automatic keys and no such file named, kept in the key folder as
//! `sealing.key` (created 0600 on first start, never rotated: rotating it
//! would sign every person out and void every refresh token). The key is
//! SHA-256 of the file's bytes, so any file of at least 32 random bytes
//! will do (`openssl rand 32 > sealing.key`); replicas share it as they
//! share declared signing keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tollgate_core::sealed::{KEY_LEN, SealingKey};

use super::store;

/// The name of the sealing key in the automatic key folder.
pub(crate) const FOLDER_FILE: &str = "sealing.key";

/// Fewer bytes than this cannot hold a key's worth of randomness.
const MIN_BYTES: usize = 32;

/// Where the sealing key comes from.
#[derive(Debug, Clone)]
pub enum SealingSource {
    /// `[keys] sealing_key_file`, read at validation.
    File { path: PathBuf, key: Arc<SealingKey> },
    /// Automatic keys: `sealing.key` in the key folder, created if missing
    /// when the server starts.
    Folder(PathBuf),
    /// Declared keys and no `sealing_key_file`: people cannot sign in.
    Missing,
}

/// The key a file holds.
pub(crate) fn read(file: &Path) -> Result<SealingKey, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    from_bytes(&bytes).ok_or_else(|| {
        format!(
            "{}: a sealing key file holds at least {MIN_BYTES} random bytes (it has {})",
            file.display(),
            bytes.len()
        )
    })
}

fn from_bytes(bytes: &[u8]) -> Option<SealingKey> {
    if bytes.len() < MIN_BYTES {
        return None;
    }
    let digest: [u8; KEY_LEN] = tollgate_jose::digest::sha256(bytes);
    Some(SealingKey::new(&digest))
}

/// The folder's sealing key, made (32 random bytes, 0600) if it has none.
/// Two replicas starting at once on a shared folder agree: the file is
/// linked into place only if absent, and whoever loses reads the winner's.
pub(crate) fn in_folder(dir: &Path) -> Result<SealingKey, String> {
    store::ensure_private_dir(dir).map_err(|e| e.to_string())?;
    let file = dir.join(FOLDER_FILE);
    if !file.exists() {
        let mut bytes = [0u8; MIN_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no system random source".to_owned())?;
        match store::write_new(&file, &bytes) {
            Ok(()) => tracing::info!(file = %file.display(), "sealing key created"),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", file.display())),
        }
    }
    read(&file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use tollgate_core::sealed::Purpose;

    #[test]
    fn the_folder_key_is_made_once_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let first = in_folder(&keys).unwrap();
        let mode = std::fs::metadata(keys.join(FOLDER_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = first.seal(Purpose::Session, &"alice");
        let again = in_folder(&keys).unwrap();
        assert_eq!(
            again.open::<String>(Purpose::Session, &sealed).as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn a_short_file_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("short.key");
        std::fs::write(&file, b"0123456789").unwrap();
        assert!(read(&file).unwrap_err().contains("at least 32"));
    }
}
