//! `tollgate clients add | rotate-secret | list | remove`: register clients
//! without hand-editing. Each edit keeps every other byte of the file,
//! validates the whole result exactly as `check` does, and only then
//! replaces the file, atomically (a serving tollgate reloads it). A new
//! secret is printed once, on a line `secret: …`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::edit::{self, NewClient};
use crate::config::{self, Overrides};

/// What `clients` was asked to do.
pub enum Action {
    Add {
        id: String,
        scopes: Vec<String>,
        lifetime: Option<String>,
        no_secret: bool,
        /// An included file to write it into; `None`: the main file.
        into: Option<PathBuf>,
    },
    RotateSecret {
        id: String,
        overlap: String,
    },
    Remove {
        id: String,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

pub fn clients(path: &Path, action: Action) -> ExitCode {
    let now = tollgate_jose::clock::system().now();
    let main = match config::read(path) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let report = config::check(&main, path, Overrides::Environment, now);
    let Some(current) = report.config else {
        for e in &report.errors {
            eprintln!("{}", e.render(path, None));
        }
        return fail(format!(
            "{} does not validate now; fix it first",
            path.display()
        ));
    };
    // The file that holds a client: the main one, or one it includes.
    let holder = |id: &str| -> Option<(PathBuf, String)> {
        if edit::has_client(&main, id) {
            return Some((path.to_owned(), main.clone()));
        }
        current.included.iter().find_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            edit::has_client(&text, id).then(|| (f.clone(), text))
        })
    };
    let (file, edited, secret, done) = match action {
        Action::Add {
            id,
            scopes,
            lifetime,
            no_secret,
            into,
        } => {
            if current.registry.client(&id).is_some() {
                return fail(format!("client {id:?} exists already"));
            }
            let secret = (!no_secret).then(super::generate_secret);
            let hash = match secret.as_deref().map(tollgate_core::hash_secret) {
                Some(Ok(h)) => Some(h),
                Some(Err(e)) => return fail(format!("hashing failed: {e}")),
                None => None,
            };
            let client = NewClient {
                id: &id,
                scopes: &scopes,
                lifetime: lifetime.as_deref(),
                hash: hash.as_deref(),
            };
            let (target, text) = match into {
                None => (path.to_owned(), main.clone()),
                Some(into) => {
                    let wanted = std::fs::canonicalize(&into).unwrap_or(into.clone());
                    let Some(f) = current
                        .included
                        .iter()
                        .find(|f| std::fs::canonicalize(f).is_ok_and(|c| c == wanted))
                    else {
                        return fail(format!(
                            "--into {}: not a file that {} includes",
                            into.display(),
                            path.display()
                        ));
                    };
                    match std::fs::read_to_string(f) {
                        Ok(t) => (f.clone(), t),
                        Err(e) => return fail(format!("{}: {e}", f.display())),
                    }
                }
            };
            match edit::add_client(&text, &client) {
                Ok(text) => (
                    target,
                    text,
                    secret,
                    format!("added client {id} (scopes {})", scopes.join(" ")),
                ),
                Err(e) => return fail(e),
            }
        }
        Action::RotateSecret { id, overlap } => {
            let overlap = match crate::config::duration::parse_text(&overlap) {
                Ok(d) => d,
                Err(e) => return fail(format!("--overlap: {e}")),
            };
            let Some((file, text)) = holder(&id) else {
                return fail(format!("no client {id:?}"));
            };
            let until = (now + overlap)
                .replace_nanosecond(0)
                .expect("0 is a nanosecond");
            let secret = super::generate_secret();
            let hash = match tollgate_core::hash_secret(&secret) {
                Ok(h) => h,
                Err(e) => return fail(format!("hashing failed: {e}")),
            };
            match edit::rotate_secret(&text, &id, &hash, until) {
                Ok(Some(edited)) => (
                    file,
                    edited,
                    Some(secret),
                    format!(
                        "new secret for {id}; its other secrets expire at {}",
                        crate::keys::rfc3339(until)
                    ),
                ),
                Ok(None) => return fail(format!("no client {id:?}")),
                Err(e) => return fail(e),
            }
        }
        Action::Remove { id } => {
            let Some((file, text)) = holder(&id) else {
                return fail(format!("no client {id:?}"));
            };
            match edit::remove_client(&text, &id) {
                Ok(Some(edited)) => (file, edited, None, format!("removed client {id}")),
                Ok(None) => return fail(format!("no client {id:?}")),
                Err(e) => return fail(e),
            }
        }
    };
    // The whole result, validated as check does, before anything is written.
    let report = if file == path {
        config::check(&edited, path, Overrides::Environment, now)
    } else {
        config::check_edited(&main, path, (&file, &edited), now)
    };
    if report.config.is_none() {
        for e in &report.errors {
            eprintln!("{}", e.render(path, None));
        }
        return fail("the result would not validate; nothing was changed");
    }
    if let Err(e) = write_atomically(&file, edited.as_bytes()) {
        return fail(format!("{}: {e}; nothing was changed", file.display()));
    }
    if let Some(secret) = secret {
        println!("secret: {secret}");
    }
    eprintln!("{done} in {}", file.display());
    ExitCode::SUCCESS
}

/// Replaces `file` by a complete new version, never a half-written one:
/// written beside it, synced, then renamed over it (its mode kept).
pub(super) fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(file) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `tollgate clients list`.
pub fn list(path: &Path, json: bool) -> ExitCode {
    let now = tollgate_jose::clock::system().now();
    let text = match config::read(path) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let report = config::check(&text, path, Overrides::Environment, now);
    let Some(config) = report.config else {
        for e in &report.errors {
            eprintln!("{}", e.render(path, None));
        }
        return fail(format!("{} does not validate", path.display()));
    };
    let mut clients: Vec<_> = config.registry.clients().collect();
    clients.sort_by(|a, b| a.id.cmp(&b.id));
    let rows: Vec<serde_json::Value> = clients
        .iter()
        .map(|c| {
            let mut ways = Vec::new();
            let valid = c.secrets.valid_at(now).count();
            if valid > 0 {
                ways.push(format!("secret{}", if valid > 1 { "s" } else { "" }));
            }
            if !matches!(c.keys, tollgate_core::KeySource::None) {
                ways.push("private_key_jwt".to_owned());
            }
            if !c.federated.is_empty() {
                ways.push("federated".to_owned());
            }
            serde_json::json!({
                "client_id": c.id.as_str(),
                "allowed_scopes": c.allowed_scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "authentication": ways,
                "valid_secrets": valid,
                "enabled": c.enabled,
                "access_token_lifetime": crate::config::duration::show(c.access_token_lifetime),
            })
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    let list = |r: &serde_json::Value, k: &str| {
        r[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    let table: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r["client_id"].as_str().unwrap_or_default().to_owned(),
                list(r, "allowed_scopes"),
                list(r, "authentication"),
                if r["enabled"] == true {
                    "enabled"
                } else {
                    "disabled"
                }
                .to_owned(),
            ]
        })
        .collect();
    print!("{}", columns(["CLIENT", "SCOPES", "AUTH", "STATE"], &table));
    ExitCode::SUCCESS
}

/// A header row and one row per entry, each column as wide as its widest
/// cell (the last one unpadded).
pub(super) fn columns<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header);
    for row in rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_has_a_header_row_and_aligned_columns() {
        let row = |a: &str, b: &str, c: &str, d: &str| [a, b, c, d].map(str::to_owned);
        let text = super::columns(
            ["CLIENT", "SCOPES", "AUTH", "STATE"],
            &[
                row("billing", "api1 api2", "secrets", "enabled"),
                row("c", "api1", "private_key_jwt", "disabled"),
            ],
        );
        assert_eq!(
            text,
            "CLIENT   SCOPES     AUTH             STATE\n\
             billing  api1 api2  secrets          enabled\n\
             c        api1       private_key_jwt  disabled\n"
        );
    }
}
