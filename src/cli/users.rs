//! `tollgate users add | set-password | remove | list`: the people of the
//! file, without hand-editing. As for `clients`, each edit keeps every
//! other byte, validates the whole result as `check` does, and only then
//! replaces the file that declares the user, atomically. A password is
//! read from a terminal without echo or from the first line of stdin, or
//! made with `--generate` and printed once, on a line `password: …`.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::edit::{self, NewUser};
use crate::config::{self, Config, Overrides};

/// What `users` was asked to do.
pub enum Action {
    Add {
        username: String,
        name: Option<String>,
        email: Option<String>,
        groups: Vec<String>,
        /// An included file to write her into; `None`: the main file.
        file: Option<PathBuf>,
        generate: bool,
    },
    SetPassword {
        username: String,
        generate: bool,
    },
    Remove {
        username: String,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// The configuration in force at `path` and the main file's text, or the
/// exit code after saying why not.
fn current(path: &Path, now: time::OffsetDateTime) -> Result<(Config, String), ExitCode> {
    let main = config::read(path).map_err(fail)?;
    let report = config::check(&main, path, Overrides::Environment, now);
    let Some(current) = report.config else {
        for e in &report.errors {
            eprintln!("{}", e.render(path, None));
        }
        return Err(fail(format!(
            "{} does not validate now; fix it first",
            path.display()
        )));
    };
    Ok((current, main))
}

pub fn users(path: &Path, action: Action) -> ExitCode {
    let now = tollgate_jose::clock::system().now();
    let (current, main) = match current(path, now) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // The file that declares a user: the main one, or one it includes.
    let holder = |username: &str| -> Option<(PathBuf, String)> {
        if edit::has_user(&main, username) {
            return Some((path.to_owned(), main.clone()));
        }
        current.included.iter().find_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            edit::has_user(&text, username).then(|| (f.clone(), text))
        })
    };
    let (file, edited, password, done) = match action {
        Action::Add {
            username,
            name,
            email,
            groups,
            file,
            generate,
        } => {
            if current.registry.user(&username).is_some() {
                return fail(format!("user {username:?} exists already"));
            }
            let (target, text) = match file {
                None => (path.to_owned(), main.clone()),
                Some(file) => match included(&current, path, &file) {
                    Ok(found) => found,
                    Err(code) => return code,
                },
            };
            let (password, hash) = match password(generate) {
                Ok(p) => p,
                Err(code) => return code,
            };
            let user = NewUser {
                username: &username,
                hash: &hash,
                name: name.as_deref(),
                email: email.as_deref(),
                groups: &groups,
            };
            match edit::add_user(&text, &user) {
                Ok(text) => (target, text, password, format!("added user {username}")),
                Err(e) => return fail(e),
            }
        }
        Action::SetPassword { username, generate } => {
            let Some((file, text)) = holder(&username) else {
                return fail(format!("no user {username:?}"));
            };
            let (password, hash) = match password(generate) {
                Ok(p) => p,
                Err(code) => return code,
            };
            match edit::set_password(&text, &username, &hash) {
                Ok(Some(edited)) => (
                    file,
                    edited,
                    password,
                    format!("new password for {username}"),
                ),
                Ok(None) => return fail(format!("no user {username:?}")),
                Err(e) => return fail(e),
            }
        }
        Action::Remove { username } => {
            let Some((file, text)) = holder(&username) else {
                return fail(format!("no user {username:?}"));
            };
            match edit::remove_user(&text, &username) {
                Ok(Some(edited)) => (file, edited, None, format!("removed user {username}")),
                Ok(None) => return fail(format!("no user {username:?}")),
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
    if let Err(e) = super::clients::write_atomically(&file, edited.as_bytes()) {
        return fail(format!("{}: {e}; nothing was changed", file.display()));
    }
    if let Some(password) = password {
        println!("password: {password}");
    }
    eprintln!("{done} in {}", file.display());
    ExitCode::SUCCESS
}

/// The included file `wanted` names, with its text.
fn included(current: &Config, path: &Path, wanted: &Path) -> Result<(PathBuf, String), ExitCode> {
    let canonical = std::fs::canonicalize(wanted).unwrap_or(wanted.to_owned());
    let Some(f) = current
        .included
        .iter()
        .find(|f| std::fs::canonicalize(f).is_ok_and(|c| c == canonical))
    else {
        return Err(fail(format!(
            "--file {}: not a file that {} includes",
            wanted.display(),
            path.display()
        )));
    };
    std::fs::read_to_string(f)
        .map(|t| (f.clone(), t))
        .map_err(|e| fail(format!("{}: {e}", f.display())))
}

/// The password (`Some` when made here, to be printed once) and its
/// Argon2id hash, as `hash-secret` makes it.
fn password(generate: bool) -> Result<(Option<String>, String), ExitCode> {
    let (shown, password) = if generate {
        let p = super::generate_secret();
        (Some(p.clone()), p)
    } else {
        match read_password() {
            Ok(p) if !p.is_empty() => (None, p),
            Ok(_) => return Err(fail("the password is empty")),
            Err(e) => return Err(fail(format!("cannot read the password: {e}"))),
        }
    };
    let hash =
        tollgate_core::hash_secret(&password).map_err(|e| fail(format!("hashing failed: {e}")))?;
    Ok((shown, hash))
}

/// Prompts twice without echo on a terminal (a typo would lock her out);
/// otherwise reads the first line of stdin, for scripts.
fn read_password() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            return Err(std::io::Error::other("the two passwords differ"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `tollgate users list`.
pub fn list(path: &Path, json: bool) -> ExitCode {
    let now = tollgate_jose::clock::system().now();
    let (current, _) = match current(path, now) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut users: Vec<_> = current.registry.users().collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    if json {
        let rows: Vec<serde_json::Value> = users
            .iter()
            .map(|u| {
                serde_json::json!({
                    "username": u.username.as_str(),
                    "name": u.name,
                    "email": u.email,
                    "email_verified": u.email_verified,
                    "groups": u.groups,
                    "enabled": u.enabled,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    let rows: Vec<[String; 5]> = users
        .iter()
        .map(|u| {
            [
                u.username.to_string(),
                u.name.clone().unwrap_or_default(),
                u.email.clone().unwrap_or_default(),
                u.groups.join(" "),
                if u.enabled { "enabled" } else { "disabled" }.to_owned(),
            ]
        })
        .collect();
    print!(
        "{}",
        super::clients::columns(["USER", "NAME", "EMAIL", "GROUPS", "STATE"], &rows)
    );
    ExitCode::SUCCESS
}
