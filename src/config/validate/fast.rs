//! The fast path of validation: a file (and its included files) that
//! deserializes straight into the raw types has the right shape, since the
//! schema is generated from those types; only its meaning remains to be
//! checked. This skips the TOML → JSON → schema → JSON → types round trip,
//! which for 100,000 clients took most of the time and memory. Anything
//! unusual — a shape problem, environment overrides, a problem in a file
//! with includes — takes the full path, which reports every problem at its
//! file and line.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use super::super::files::read_limited;
use super::super::include;
use super::super::problems::Problems;
use super::super::raw::{RawClient, RawConfig, RawIncluded};
use super::super::sources::{self, Overrides};
use super::super::split;
use super::reuse::{self, Reuse};
use super::{Report, build, given_text, warn};
use tollgate_core::Client;

/// The report of `text`, or `None` to take the full path. Clients of
/// `previous` whose element is unchanged are taken over (see [`Reuse`]).
pub(super) fn report(
    text: &str,
    main: &Path,
    base: &Path,
    overrides: Overrides,
    now: OffsetDateTime,
    given: &[(&Path, &str)],
    previous: Option<&Reuse>,
) -> Option<Report> {
    if overrides == Overrides::Environment && sources::environment_sets_something() {
        return None;
    }
    let split = split::clients(text).filter(|(_, e)| e.len() > split::BATCH);
    let mut raw: RawConfig = toml::from_str(split.as_ref().map_or(text, |(rest, _)| rest)).ok()?;
    let patterns: Vec<String> = raw
        .include
        .iter()
        .map(|p| base.join(p).to_string_lossy().into_owned())
        .collect();
    let included = include::expand(&patterns, main).ok()?;
    let texts = included
        .iter()
        .map(|file| match given_text(given, file) {
            Some(text) => Some((file.clone(), text.to_owned())),
            None => {
                let text = String::from_utf8(read_limited(file).ok()?).ok()?;
                Some((file.clone(), text))
            }
        })
        .collect::<Option<Vec<_>>>()?;
    // Keys of the main file's client elements, when it was split.
    let mut kept: Option<([u8; 32], Vec<[u8; 32]>)> = None;
    let mut reused = Vec::new();
    if let Some((rest, elements)) = &split {
        if !raw.clients.is_empty() {
            // Clients written another way as well (`clients = [...]`): the
            // whole parse says what that means.
            return None;
        }
        // Users are validated on every reload and no client rule reads
        // them: an edit of a user leaves the clients' context as it was.
        let without_users = split::elements(rest, "users").map(|(r, _)| r);
        let context = reuse::context(without_users.as_deref().unwrap_or(rest), base, &texts);
        let keys: Vec<[u8; 32]> = elements
            .iter()
            .map(|e| reuse::element(&text[e.clone()]))
            .collect();
        reused = keys
            .iter()
            .map(|k| previous.and_then(|p| p.get(&context, k)).cloned())
            .collect();
        raw.clients = parse_clients(text, elements, &reused)?;
        kept = Some((context, keys));
    }
    if raw
        .clients
        .iter()
        .any(|c| c.claims.values().any(has_datetime))
    {
        // TOML date-times in claims: the full path writes them as strings.
        return None;
    }
    let main_clients = raw.clients.len();
    for (n, (file, text)) in texts.iter().enumerate() {
        let mut part: RawIncluded = toml::from_str(text).ok()?;
        // The file of each scope and resource, numbered as the full path
        // numbers them (the main file is 0).
        part.api_scopes.iter_mut().for_each(|s| s.origin = n + 1);
        part.api_resources.iter_mut().for_each(|r| r.origin = n + 1);
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
        raw.users.extend(part.users);
    }
    if raw
        .users
        .iter()
        .any(|u| u.claims.values().any(has_datetime))
    {
        // As for clients' claims: the full path says what they become.
        return None;
    }
    let no_env = Default::default();
    let mut problems = Problems::new(text, &no_env);
    let mut config = build(&raw, base, now, &mut problems, &reused);
    if problems.len() > 0 {
        // Problems of merged files need the full path's provenance.
        return included
            .is_empty()
            .then(|| Report::failed(problems.sorted()));
    }
    let reuse = kept.map(|(context, keys)| {
        let clients = keys
            .into_iter()
            .zip(&raw.clients[..main_clients])
            .filter(|(_, c)| c.jwks_file.is_none())
            .filter_map(|(k, c)| Some((k, config.registry.client(&c.client_id).cloned()?)))
            .collect();
        Reuse::new(context, clients)
    });
    config.include = patterns;
    config.included = included;
    warn(&config, &raw, now, &mut problems);
    Some(Report {
        config: Some(config),
        errors: Vec::new(),
        warnings: problems.sorted(),
        reuse,
    })
}

/// The clients of the main file's `elements`: those `reused` stand in as
/// their id alone (all the rules of the whole file need of them), the
/// others are deserialized [`split::BATCH`] at a time, so that the toml
/// crate's tree stays small. `None` when any does not deserialize.
fn parse_clients(
    text: &str,
    elements: &[Range<usize>],
    reused: &[Option<Arc<Client>>],
) -> Option<Vec<RawClient>> {
    let fresh: Vec<&Range<usize>> = elements
        .iter()
        .zip(reused)
        .filter(|(_, r)| r.is_none())
        .map(|(e, _)| e)
        .collect();
    let mut parsed = Vec::with_capacity(fresh.len());
    let mut part = String::new();
    for batch in fresh.chunks(split::BATCH) {
        part.clear();
        batch
            .iter()
            .for_each(|e| part.push_str(&text[(*e).clone()]));
        let clients: RawIncluded = toml::from_str(&part).ok()?;
        // One client an element, or the split misread the file.
        if clients.clients.len() != batch.len() {
            return None;
        }
        parsed.extend(clients.clients);
    }
    let mut parsed = parsed.into_iter();
    reused
        .iter()
        .map(|r| match r {
            // A client taken over stands in by its id: the rules across
            // clients (unique ids) read no more of it.
            Some(client) => Some(RawClient {
                client_id: client.id.as_str().to_owned(),
                ..RawClient::default()
            }),
            None => parsed.next(),
        })
        .collect()
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
