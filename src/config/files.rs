//! Reading the files a reload is made of: the main file and every
//! included file, each read only once it has settled. An in-place write
//! (truncate, then write) can be caught half done, and half a file may
//! well be valid: a team file caught between a rule and its condition
//! would apply the rule alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::stamp::file_age;

/// How long the content must stay the same, and at least how old its
/// last modification must be, before it is applied. A writer that pauses
/// longer than this mid-write is not caught; write the file elsewhere and
/// rename it into place (editors, `kubectl` and `tollgate clients` do).
pub(super) const SETTLE: Duration = Duration::from_millis(250);
/// The longest a reload waits for the files to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// The files of one reload, as read once all of them had settled.
pub(super) struct Settled {
    pub(super) main: Vec<u8>,
    pub(super) included: Vec<(PathBuf, Vec<u8>)>,
}

/// Reads `main` and `included` once the last modification of every one
/// of them is [`SETTLE`] old and was the same before and after the read;
/// `Err` names the file that could not be read.
pub(super) fn read_settled(
    main: &Path,
    included: &[PathBuf],
) -> Result<Settled, (PathBuf, std::io::Error)> {
    let started = std::time::Instant::now();
    let all: Vec<&Path> = std::iter::once(main)
        .chain(included.iter().map(PathBuf::as_path))
        .collect();
    loop {
        let before = modified(&all)?;
        let mut bytes = all
            .iter()
            .map(|p| std::fs::read(p).map_err(|e| (p.to_path_buf(), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let after = modified(&all)?;
        // No modification time (an odd file system): the content as read.
        let age = after
            .iter()
            .map(|m| m.and_then(file_age).unwrap_or(SETTLE))
            .min()
            .unwrap_or(SETTLE);
        if (before == after && age >= SETTLE) || started.elapsed() >= SETTLE_LIMIT {
            let main = bytes.remove(0);
            let included = included.iter().cloned().zip(bytes).collect();
            return Ok(Settled { main, included });
        }
        std::thread::sleep(SETTLE.saturating_sub(age).max(Duration::from_millis(20)));
    }
}

fn modified(files: &[&Path]) -> Result<Vec<Option<SystemTime>>, (PathBuf, std::io::Error)> {
    files
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .map(|m| m.modified().ok())
                .map_err(|e| (p.to_path_buf(), e))
        })
        .collect()
}

/// Whether a file read holds nothing: a file being rewritten in place is
/// empty for a moment, and no operator means an empty file.
pub(super) fn empty(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}
