//! `tollgate diff OLD NEW`: what an edit changes, as text for a person or
//! JSON for a pipeline. Both files must validate (the problems of one that
//! does not are printed, exit 1); otherwise exit 0, changes or not, or
//! with `--exit-code` (as `git diff --exit-code`) 1 when there are changes.

use std::path::Path;
use std::process::ExitCode;

use crate::config::diff::{Diff, Section, diff as compare};
use crate::config::{self, Config, Overrides};

fn load(path: &Path) -> Result<Config, ExitCode> {
    let text = config::read(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    let report = config::check(
        &text,
        path,
        Overrides::None,
        tollgate_jose::clock::system().now(),
    );
    report.config.ok_or_else(|| {
        for e in &report.errors {
            eprintln!("{}", e.render(path, None));
        }
        eprintln!("error: {} does not validate", path.display());
        ExitCode::FAILURE
    })
}

pub fn diff(old: &Path, new: &Path, json: bool, exit_code: bool) -> ExitCode {
    let (old_config, new_config) = match (load(old), load(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let d = compare(&old_config, old, &new_config, new);
    if json {
        println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
    } else {
        print!("{}", render(&d));
    }
    if exit_code && !d.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The text form: one line per entry added or removed, one per field
/// changed.
pub(super) fn render(d: &Diff) -> String {
    if d.is_empty() {
        return "no changes\n".into();
    }
    let mut out = String::new();
    for c in &d.settings {
        out += &format!("~ {}: {} -> {}\n", c.field, shown(&c.old), shown(&c.new));
    }
    let sections: [(&str, &Section); 6] = [
        ("client", &d.clients),
        ("scope", &d.scopes),
        ("resource", &d.resources),
        ("trusted issuer", &d.trusted_issuers),
        ("signing key", &d.keys),
        ("user", &d.users),
    ];
    for (what, s) in sections {
        for id in &s.added {
            match s.added_scopes.get(id) {
                Some(scopes) => out += &format!("+ {what} {id} (scopes: {})\n", shown(scopes)),
                None => out += &format!("+ {what} {id}\n"),
            }
        }
        for id in &s.removed {
            out += &format!("- {what} {id}\n");
        }
        for c in &s.changed {
            for f in &c.changes {
                out += &format!(
                    "~ {what} {}: {}: {} -> {}\n",
                    c.id,
                    f.field,
                    shown(&f.old),
                    shown(&f.new)
                );
            }
        }
    }
    out
}

fn shown(v: &str) -> &str {
    if v.is_empty() { "(none)" } else { v }
}
