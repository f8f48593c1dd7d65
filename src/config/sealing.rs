//! `[keys] sealing_key_file`: the file named, read at validation (so a
//! missing or short file is a problem at its line, and replicas reading
//! the same file agree on the key).

use std::path::Path;
use std::sync::Arc;

use super::problems::Problems;
use crate::keys::sealing::{self, SealingSource};

/// The key of the file `[keys] sealing_key_file` names, if it names one
/// and it holds a key.
pub(super) fn declared(
    file: Option<&str>,
    base: &Path,
    problems: &mut Problems<'_>,
) -> Option<SealingSource> {
    let path = base.join(file?);
    sealing::read(&path)
        .map(|key| SealingSource::File {
            path,
            key: Arc::new(key),
        })
        .inspect_err(|e| problems.add("keys.sealing_key_file", e.clone()))
        .ok()
}
