//! `tollgate check`: the same validation `serve` and reload run, every
//! problem reported. Exit 0 valid (warnings allowed), 1 invalid, 2
//! unreadable.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, Overrides, Problem};

/// How `check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn check(path: &Path, format: Format, show_origin: bool) -> ExitCode {
    let text = match config::read(path) {
        Ok(t) => t,
        Err(e) => {
            match format {
                Format::Text => eprintln!("{e}"),
                Format::Json => println!(
                    "{}",
                    serde_json::json!({"file": path, "valid": false, "unreadable": e.to_string()})
                ),
            }
            return ExitCode::from(2);
        }
    };
    let report = config::check(
        &text,
        path,
        Overrides::Environment,
        tollgate_jose::clock::system().now(),
    );
    let valid = report.config.is_some();
    match format {
        Format::Text => {
            for e in &report.errors {
                eprintln!("{}", e.render(path, None));
            }
            for w in &report.warnings {
                eprintln!("{}", w.render(path, Some("warning")));
            }
            if valid {
                println!(
                    "{}: ok ({})",
                    path.display(),
                    super::count(report.warnings.len(), "warning")
                );
            } else {
                eprintln!(
                    "{}: {}",
                    path.display(),
                    super::count(report.errors.len(), "error")
                );
            }
        }
        Format::Json => {
            let list = |problems: &[Problem]| -> Vec<serde_json::Value> {
                problems
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "file": p.file.as_deref().unwrap_or(path),
                            "line": p.line, "column": p.column, "key_path": p.key_path,
                            "message": p.message, "hint": p.hint,
                        })
                    })
                    .collect()
            };
            let out = serde_json::json!({
                "file": path, "valid": valid,
                "errors": list(&report.errors), "warnings": list(&report.warnings),
            });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
    if let (true, Some(cfg)) = (show_origin, &report.config) {
        for o in config::origins(&text, path, cfg) {
            println!("{} = {:?}  ({})", o.key, o.value, o.source);
        }
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
