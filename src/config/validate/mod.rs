//! Raw config → [`Config`]: every cross-field rule lives here, once, and
//! every broken rule becomes a [`Problem`] with its line. Does no Argon2
//! work (hashes are only parsed), so even a huge file validates fast.

pub(super) mod agree;
mod clients;
mod fast;
mod federation;
mod registry;
mod reuse;
mod values;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use time::OffsetDateTime;

use super::problems::{Problem, Problems};
use super::raw::RawConfig;
use super::sources::{self, DocumentError, Overrides};
use super::{Config, DEFAULT_LISTEN, duration, include, locate, shape};
use tollgate_core::ThrottleSettings;

pub use clients::REGISTERED_CLAIMS;
pub use reuse::Reuse;

/// The outcome of validating a file: the configuration if there is no
/// error, every error, and warnings.
pub struct Report {
    pub config: Option<Config>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// What the next reload may take over, when this validation was
    /// eligible for that.
    pub(in crate::config) reuse: Option<Reuse>,
}

impl Report {
    /// What a reload of this configuration may take over from it.
    pub fn reusable(&mut self) -> Option<Reuse> {
        self.reuse.take()
    }

    fn failed(errors: Vec<Problem>) -> Self {
        Self {
            config: None,
            errors,
            warnings: Vec::new(),
            reuse: None,
        }
    }
}

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

/// Validates `text` (a file in folder `base`): syntax, then shape against
/// the schema, then meaning. `now` dates the warnings about expiring
/// secrets and the key schedule. Unchanged clients of `previous` (the
/// configuration in force) are taken over.
pub(super) fn report(
    text: &str,
    main: &Path,
    base: &Path,
    overrides: Overrides,
    now: OffsetDateTime,
    edited: Option<(&Path, &str)>,
    previous: Option<&Reuse>,
) -> Report {
    if let Some(report) = fast::report(text, main, base, overrides, now, edited, previous) {
        return report;
    }
    full(text, main, base, overrides, now, edited)
}

/// The full path: TOML → JSON (with environment overrides) → schema →
/// included files merged with their provenance → types → meaning. Every
/// problem at its file and line; the fast path must agree with it.
fn full(
    text: &str,
    main: &Path,
    base: &Path,
    overrides: Overrides,
    now: OffsetDateTime,
    edited: Option<(&Path, &str)>,
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
            // An edit not yet written is validated in place of its file.
            if let Some((file, text)) = edited
                && same_file(file, p)
            {
                return (p.clone(), Ok(text.to_owned()));
            }
            let text = std::fs::read(p)
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()));
            (p.clone(), text)
        })
        .collect();
    let mut value = document.value;
    merge(&mut value, &texts, &mut problems);
    if problems.len() > 0 {
        return Report::failed(problems.sorted());
    }
    let raw: RawConfig = match serde_json::from_value(value) {
        Ok(raw) => raw,
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

pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Appends the lists of every included file to `value` (the main
/// document), each checked against the included-file schema and placed in
/// its own file for problems.
fn merge<'a>(
    value: &mut Value,
    texts: &'a [(PathBuf, Result<String, String>)],
    problems: &mut Problems<'a>,
) {
    if texts.is_empty() {
        return;
    }
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
    for (section, origins) in include::SECTIONS.into_iter().zip(origins) {
        problems.provenance(section, origins);
    }
}

/// The configuration of `raw`; the client at index `i` is `reused[i]`
/// when that is `Some`.
pub(super) fn build(
    raw: &RawConfig,
    base: &Path,
    now: OffsetDateTime,
    problems: &mut Problems<'_>,
    reused: &[Option<std::sync::Arc<tollgate_core::Client>>],
) -> Config {
    let issuer = raw.issuer.as_deref().and_then(|i| match check_issuer(i) {
        Ok(i) => Some(i),
        Err(e) => {
            problems.add("issuer", e);
            None
        }
    });
    let listen = address(raw.server.listen.as_deref(), "server.listen", problems)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("the default address parses"));
    let management_listen = address(
        raw.server.management_listen.as_deref(),
        "server.management_listen",
        problems,
    );
    if management_listen.is_some_and(|m| {
        m.port() != 0
            && m.port() == listen.port()
            && (m.ip() == listen.ip() || m.ip().is_unspecified() || listen.ip().is_unspecified())
    }) {
        problems.add(
            "server.management_listen",
            "the management listener must not share the address of server.listen",
        );
    }
    let tls = super::tls::build(raw.server.tls.as_ref(), base, problems);
    let keys = super::keys::build(&raw.keys, base, now, problems);
    let registry = registry::build(raw, base, problems, reused);
    let defaults = ThrottleSettings::default();
    let throttle = ThrottleSettings {
        client_failures: raw
            .throttle
            .client_failures
            .unwrap_or(defaults.client_failures),
        address_failures: raw
            .throttle
            .address_failures
            .unwrap_or(defaults.address_failures),
        window: match &raw.throttle.window {
            None => defaults.window,
            Some(d) => duration::parse(d).unwrap_or_else(|e| {
                problems.add("throttle.window", e);
                defaults.window
            }),
        },
    };
    let replay = match raw.replay.store.as_deref() {
        None | Some("memory") => super::ReplaySetting::Memory,
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            match url::Url::parse(url) {
                Ok(u) if u.host().is_some() => super::ReplaySetting::Redis(url.to_owned()),
                _ => {
                    problems.add(
                        "replay.store",
                        format!("{url} is not a redis:// URL with a host"),
                    );
                    super::ReplaySetting::Memory
                }
            }
        }
        Some(other) => {
            problems.add_hinted(
                "replay.store",
                format!("{other:?} is not a replay store"),
                Some("\"memory\", or \"redis://HOST:PORT[/DB]\" with several replicas"),
            );
            super::ReplaySetting::Memory
        }
    };
    Config {
        include: Vec::new(),
        included: Vec::new(),
        replay,
        issuer,
        listen,
        management_listen,
        tls,
        keys,
        registry: std::sync::Arc::new(registry),
        throttle,
    }
}

/// An `IP:PORT` setting; `None` when absent or wrong (a problem then).
fn address(value: Option<&str>, path: &str, problems: &mut Problems<'_>) -> Option<SocketAddr> {
    let value = value?;
    match value.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            problems.add(
                path,
                format!("{value:?} is not an IP:PORT address, e.g. \"0.0.0.0:5001\""),
            );
            None
        }
    }
}

fn check_issuer(issuer: &str) -> Result<String, String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("{issuer:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the issuer must be an http or https URL".into());
    }
    // RFC 8414 §2: "a URL that uses the https scheme and has no query or
    // fragment components".
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer may not have a query or fragment".into());
    }
    Ok(issuer.trim_end_matches('/').to_owned())
}

pub(super) fn warn(
    config: &Config,
    raw: &RawConfig,
    now: OffsetDateTime,
    problems: &mut Problems<'_>,
) {
    super::keys::warn(config, now, problems);
    if config.issuer.is_none() {
        problems.add_hinted(
            "issuer",
            "no issuer is set; tokens will name the listen address as their issuer",
            Some("set issuer = \"https://your.host\" to the URL clients and APIs use"),
        );
    }
    let http_issuer = config
        .issuer
        .as_deref()
        .is_some_and(|i| i.starts_with("http://"));
    if http_issuer && !config.listen.ip().is_loopback() && config.tls.is_none() {
        problems.add_hinted(
            "issuer",
            "the issuer is http:// but the server listens beyond loopback",
            Some("serve tokens over https (a TLS-terminating proxy or ingress) and set an https issuer"),
        );
    }
    if config.tls.is_some() && http_issuer {
        problems.add_hinted(
            "issuer",
            "the server serves https ([server.tls]) but the issuer is http://",
            Some("set issuer = \"https://...\""),
        );
    }
    registry::warn(config, raw, now, problems);
}
