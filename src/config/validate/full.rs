//! The full path of validation: TOML → JSON (with environment
//! overrides) → schema → included files merged with their provenance →
//! types → meaning, every problem at its file and line. Anything the fast
//! path declines comes here, and the fast path must agree with it
//! (`agree`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use time::OffsetDateTime;

use super::super::files::read_limited;
use super::super::problems::{Problem, Problems};
use super::super::raw::RawConfig;
use super::super::sources::{self, DocumentError, Overrides};
use super::super::{include, locate, shape};
use super::{Report, build, given_text, warn};

/// A problem of the whole text, at a byte offset (or nowhere).
fn whole(text: &str, offset: Option<usize>, message: String) -> Problem {
    let pos = offset.map(|o| locate::position(text, o));
    Problem {
        file: None,
        key_path: String::new(),
        line: pos.map(|p| p.line),
        column: pos.map(|p| p.column),
        message,
        hint: None,
    }
}

/// The full path: TOML → JSON (with environment overrides) → schema →
/// included files merged with their provenance → types → meaning. Every
/// problem at its file and line; the fast path must agree with it.
pub(super) fn report(
    text: &str,
    main: &Path,
    base: &Path,
    overrides: Overrides,
    now: OffsetDateTime,
    given: &[(&Path, &str)],
) -> Report {
    let document = match sources::document(text, overrides) {
        Ok(d) => d,
        // Only a position is needed: no document index for a text that
        // does not parse.
        Err(DocumentError::Toml(e)) => {
            let at = e.span().map(|s| s.start);
            return Report::failed(vec![whole(text, at, e.message().trim().to_owned())]);
        }
        Err(DocumentError::Env(e)) => {
            return Report::failed(vec![whole(
                text,
                None,
                format!("environment overrides: {e}"),
            )]);
        }
    };
    let mut problems = Problems::new(text, &document.from_env);
    for p in shape::problems(&document.value, shape::Kind::Main) {
        problems.add_hinted(p.key_path, p.message, p.hint.as_deref());
    }
    if problems.len() > 0 {
        return Report::failed(problems.sorted());
    }
    let patterns = include::patterns(&document.value, base);
    let included = match include::expand(&patterns, main) {
        Ok(files) => files,
        Err((i, message)) => {
            problems.add(format!("include[{i}]"), message);
            return Report::failed(problems.sorted());
        }
    };
    let texts: Vec<(PathBuf, Result<String, String>)> = included
        .iter()
        .map(|p| {
            // An edit not yet written, or what a reload read, is
            // validated in place of its file.
            if let Some(text) = given_text(given, p) {
                return (p.clone(), Ok(text.to_owned()));
            }
            let text = read_limited(p)
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()));
            (p.clone(), text)
        })
        .collect();
    let mut value = document.value;
    let origins = merge(&mut value, &texts, &mut problems);
    if problems.len() > 0 {
        return Report::failed(problems.sorted());
    }
    let raw: RawConfig = match serde_json::from_value::<RawConfig>(value) {
        Ok(mut raw) => {
            // The file of each scope and resource, for the rule that a
            // team's resources list only its own scopes.
            for (scope, (file, _)) in raw.api_scopes.iter_mut().zip(&origins[0]) {
                scope.origin = *file;
            }
            for (resource, (file, _)) in raw.api_resources.iter_mut().zip(&origins[1]) {
                resource.origin = *file;
            }
            raw
        }
        // The schema is generated from these types, so this is a bug in
        // the schema generation; still say what is wrong.
        Err(e) => {
            problems.add("", e.to_string());
            return Report::failed(problems.list);
        }
    };
    let mut config = build(&raw, base, now, &mut problems, &[]);
    if problems.len() > 0 {
        return Report::failed(problems.sorted());
    }
    config.include = patterns;
    config.included = included;
    warn(&config, &raw, now, &mut problems);
    Report {
        config: Some(config),
        errors: Vec::new(),
        warnings: problems.sorted(),
        reuse: None,
    }
}

/// Appends the lists of every included file to `value` (the main
/// document), each checked against the included-file schema and placed in
/// its own file for problems. Returns where each element of each section
/// came from: (file, index in it), the main file being 0.
fn merge<'a>(
    value: &mut Value,
    texts: &'a [(PathBuf, Result<String, String>)],
    problems: &mut Problems<'a>,
) -> Vec<Vec<(usize, usize)>> {
    let mut origins: Vec<Vec<(usize, usize)>> = include::SECTIONS
        .iter()
        .map(|s| {
            let n = value.get(*s).and_then(Value::as_array).map_or(0, Vec::len);
            (0..n).map(|i| (0, i)).collect()
        })
        .collect();
    for (path, text) in texts {
        let text = match text {
            Ok(t) => t.as_str(),
            Err(e) => {
                let source = problems.include(path.clone(), "");
                problems.add_at(source, None, e.clone());
                continue;
            }
        };
        let source = problems.include(path.clone(), text);
        let document = match sources::document(text, Overrides::None) {
            Ok(d) => d.value,
            Err(DocumentError::Toml(e)) => {
                problems.add_at(
                    source,
                    e.span().map(|s| s.start),
                    e.message().trim().to_owned(),
                );
                continue;
            }
            Err(DocumentError::Env(e)) => {
                problems.add_at(source, None, e);
                continue;
            }
        };
        let shape = shape::problems(&document, shape::Kind::Included);
        if !shape.is_empty() {
            for p in shape {
                problems.add_in(source, p.key_path, p.message, p.hint.as_deref());
            }
            continue;
        }
        let folder = path.parent().unwrap_or(Path::new("."));
        for (k, section) in include::SECTIONS.iter().enumerate() {
            let Some(items) = document.get(*section).and_then(Value::as_array) else {
                continue;
            };
            let list = value
                .as_object_mut()
                .expect("the document is a table")
                .entry(*section)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                for (j, item) in items.iter().enumerate() {
                    let mut item = item.clone();
                    include::resolve_paths(&mut item, folder);
                    list.push(item);
                    origins[k].push((source, j));
                }
            }
        }
    }
    for (section, origins) in include::SECTIONS.into_iter().zip(&origins) {
        problems.provenance(section, origins.clone());
    }
    origins
}
