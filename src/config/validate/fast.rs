//! The fast path of validation: a file (and its included files) that
//! deserializes straight into the raw types has the right shape, since the
//! schema is generated from those types; only its meaning remains to be
//! checked. This skips the TOML → JSON → schema → JSON → types round trip,
//! which for 100,000 clients took most of the time and memory. Anything
//! unusual — a shape problem, environment overrides, a problem in a file
//! with includes — takes the full path, which reports every problem at its
//! file and line.

use std::path::Path;

use serde_json::Value;
use time::OffsetDateTime;

use super::super::include;
use super::super::problems::Problems;
use super::super::raw::{RawConfig, RawIncluded};
use super::super::sources::{self, Overrides};
use super::super::split;
use super::{Report, build, same_file, warn};

/// The report of `text`, or `None` to take the full path.
pub(super) fn check(
    text: &str,
    main: &Path,
    base: &Path,
    overrides: Overrides,
    now: OffsetDateTime,
    edited: Option<(&Path, &str)>,
) -> Option<Report> {
    if overrides == Overrides::Environment && sources::environment_sets_something() {
        return None;
    }
    let mut raw = parse(text)?;
    if raw
        .clients
        .iter()
        .any(|c| c.claims.values().any(has_datetime))
    {
        // TOML date-times in claims: the full path writes them as strings.
        return None;
    }
    let patterns: Vec<String> = raw
        .include
        .iter()
        .map(|p| base.join(p).to_string_lossy().into_owned())
        .collect();
    let included = include::expand(&patterns, main).ok()?;
    for file in &included {
        let text = match edited {
            Some((path, text)) if same_file(path, file) => text.to_owned(),
            _ => std::fs::read_to_string(file).ok()?,
        };
        let mut part: RawIncluded = toml::from_str(&text).ok()?;
        let folder = file.parent().unwrap_or(Path::new("."));
        let resolve = |f: &mut Option<String>| {
            if let Some(p) = f
                && Path::new(p).is_relative()
            {
                *p = folder.join(&*p).to_string_lossy().into_owned();
            }
        };
        part.clients
            .iter_mut()
            .for_each(|c| resolve(&mut c.jwks_file));
        part.trusted_issuers
            .iter_mut()
            .for_each(|t| resolve(&mut t.jwks_file));
        raw.api_scopes.extend(part.api_scopes);
        raw.api_resources.extend(part.api_resources);
        raw.clients.extend(part.clients);
        raw.trusted_issuers.extend(part.trusted_issuers);
    }
    let no_env = Default::default();
    let mut problems = Problems::new(text, &no_env);
    let mut config = build(&raw, base, now, &mut problems);
    if problems.len() > 0 {
        // Problems of merged files need the full path's provenance.
        return included
            .is_empty()
            .then(|| Report::failed(problems.sorted()));
    }
    config.include = patterns;
    config.included = included;
    warn(&config, &raw, now, &mut problems);
    Some(Report {
        config: Some(config),
        errors: Vec::new(),
        warnings: problems.sorted(),
    })
}

/// `text` deserialized, its clients [`split::BATCH`] at a time when there
/// are many; `None` when any part does not deserialize.
fn parse(text: &str) -> Option<RawConfig> {
    let Some((rest, elements)) = split::clients(text).filter(|(_, e)| e.len() > split::BATCH)
    else {
        return toml::from_str(text).ok();
    };
    let mut raw: RawConfig = toml::from_str(&rest).ok()?;
    if !raw.clients.is_empty() {
        // Clients written another way as well (`clients = [...]`): the
        // whole parse says what that means.
        return None;
    }
    raw.clients.reserve(elements.len());
    let mut part = String::new();
    for batch in elements.chunks(split::BATCH) {
        part.clear();
        batch.iter().for_each(|e| part.push_str(&text[e.clone()]));
        let clients: RawIncluded = toml::from_str(&part).ok()?;
        raw.clients.extend(clients.clients);
    }
    Some(raw)
}

/// Whether a value holds a TOML date-time as serde sees it.
fn has_datetime(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.keys().any(|k| k.starts_with("$__toml_private")) || m.values().any(has_datetime)
        }
        Value::Array(a) => a.iter().any(has_datetime),
        _ => false,
    }
}
