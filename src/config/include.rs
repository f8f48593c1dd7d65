//! `include = ["clients.d/*.toml"]`: files whose lists join the main
//! file's. Globs resolve against the main file's folder; the files found
//! are read in name order, each checked against its own schema, and their
//! `[[clients]]`, `[[api_scopes]]`, `[[api_resources]]`,
//! `[[trusted_issuers]]` and `[[users]]` appended to the main file's, every element
//! remembering where it came from so that a problem is reported at its own
//! file and line. Paths inside an included file (`jwks_file`) are relative
//! to that file.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The lists an included file may hold.
pub(super) const SECTIONS: [&str; 5] = [
    "api_scopes",
    "api_resources",
    "clients",
    "trusted_issuers",
    "users",
];

/// The glob patterns of `include`, resolved against `base`.
pub(super) fn patterns(document: &Value, base: &Path) -> Vec<String> {
    document
        .get("include")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|p| base.join(p).to_string_lossy().into_owned())
        .collect()
}

/// The files the patterns name now, sorted, without `main` (a pattern such
/// as `*.toml` beside it would name it). A pattern that is not a glob is
/// an error at its index.
pub(super) fn expand(patterns: &[String], main: &Path) -> Result<Vec<PathBuf>, (usize, String)> {
    let main = main.canonicalize().ok();
    let mut files = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let found =
            glob::glob(pattern).map_err(|e| (i, format!("{pattern:?} is not a glob ({e})")))?;
        for path in found.flatten() {
            if path.is_file() && path.canonicalize().ok() != main && !files.contains(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Makes `jwks_file` of every element relative to the included file's
/// folder, as written there.
pub(super) fn resolve_paths(item: &mut Value, folder: &Path) {
    if let Some(file) = item.get_mut("jwks_file")
        && let Some(text) = file.as_str()
        && Path::new(text).is_relative()
    {
        *file = Value::String(folder.join(text).to_string_lossy().into_owned());
    }
}

/// SHA-256 over the main file and every included file (names and bytes):
/// what the reloader compares to notice an edit in any of them.
/// Without included files it is the main file's own SHA-256.
pub(super) fn fingerprint(main: &[u8], included: &[PathBuf]) -> String {
    let contents: Vec<(PathBuf, Vec<u8>)> = included
        .iter()
        .map(|p| (p.clone(), super::files::read_limited(p).unwrap_or_default()))
        .collect();
    fingerprint_of(main, &contents)
}

/// [`fingerprint`] of the included files' contents as already read.
pub(super) fn fingerprint_of(main: &[u8], included: &[(PathBuf, Vec<u8>)]) -> String {
    if included.is_empty() {
        return hex::encode(tollgate_jose::digest::sha256(main));
    }
    let names: Vec<Vec<u8>> = included
        .iter()
        .map(|(p, _)| p.to_string_lossy().into_owned().into_bytes())
        .collect();
    let parts = std::iter::once(main).chain(
        names
            .iter()
            .zip(included)
            .flat_map(|(name, (_, bytes))| [name.as_slice(), bytes.as_slice()]),
    );
    hex::encode(tollgate_jose::digest::sha256_parts(parts))
}
