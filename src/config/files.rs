//! Reading the configuration's files: none larger than [`MAX_FILE_BYTES`]
//! (checked before reading), and for a reload the main file and every
//! included file read only once they have settled. An in-place write
//! (truncate, then write) can be caught half done, and half a file may
//! well be valid: a team file caught between a rule and its condition
//! would apply the rule alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::stamp::file_age;

/// The largest file the configuration is read from, main or included.
/// 100,000 clients are about 22 MB in one file, and a file is held about
/// twice over while it is parsed: 64 MiB leaves room for three times
/// that, and bounds what a runaway file can cost.
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a configuration file, refusing one over [`MAX_FILE_BYTES`]
/// before reading it (and one that grows past it while read).
pub(super) fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(too_large(Some(len)));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(None));
    }
    Ok(bytes)
}

fn too_large(len: Option<u64>) -> std::io::Error {
    let size = len.map_or_else(|| "grew".to_owned(), |n| format!("is {n} bytes,"));
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!(
            "the file {size} over the limit of {} MiB for a configuration file; \
             split it with `include`",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

/// Where a writer's close is not reported (or a change may have come
/// unreported: the poll, SIGHUP), how long the content must stay the
/// same, and at least how old its last modification must be, before it is
/// applied. A writer that pauses longer than this mid-write is not caught
/// there; write the file elsewhere and rename it into place (editors,
/// `kubectl` and `tollgate clients` do).
pub(super) const SETTLE: Duration = Duration::from_millis(250);
/// The longest a reload waits for the files to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// The files of one reload, as read once all of them had settled.
pub(super) struct Settled {
    pub(super) main: Vec<u8>,
    pub(super) included: Vec<(PathBuf, Vec<u8>)>,
}

/// Reads `main` and `included` once the last modification of every one
/// of them is `settle` old ([`SETTLE`], or none when the writers' closes
/// were seen) and was the same before and after the read; `Err` names the
/// file that could not be read.
pub(super) fn read_settled(
    main: &Path,
    included: &[PathBuf],
    settle: Duration,
) -> Result<Settled, (PathBuf, std::io::Error)> {
    let started = std::time::Instant::now();
    let all: Vec<&Path> = std::iter::once(main)
        .chain(included.iter().map(PathBuf::as_path))
        .collect();
    loop {
        let before = modified(&all)?;
        let mut bytes = all
            .iter()
            .map(|p| read_limited(p).map_err(|e| (p.to_path_buf(), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let after = modified(&all)?;
        // No modification time (an odd file system): the content as read.
        let age = after
            .iter()
            .map(|m| m.and_then(file_age).unwrap_or(settle))
            .min()
            .unwrap_or(settle);
        if (before == after && age >= settle) || started.elapsed() >= SETTLE_LIMIT {
            let main = bytes.remove(0);
            let included = included.iter().cloned().zip(bytes).collect();
            return Ok(Settled { main, included });
        }
        std::thread::sleep(settle.saturating_sub(age).max(Duration::from_millis(20)));
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
