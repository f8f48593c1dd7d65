//! Raw config → [`Config`]: every cross-field rule lives here, once, and
//! every broken rule becomes a [`Problem`] with its line. Does no Argon2
//! work (hashes are only parsed), so even a huge file validates fast.

pub(super) mod agree;
mod cimd;
mod clients;
mod code_flow;
mod exchange;
mod fast;
mod federation;
mod full;
mod people;
mod providers;
mod registry;
mod reuse;
mod values;

use std::net::SocketAddr;
use std::path::Path;

use time::OffsetDateTime;

use super::problems::{Problem, Problems};
use super::raw::RawConfig;
use super::sources::Overrides;
use super::{Config, DEFAULT_LISTEN, duration};
use tollgate_core::ThrottleSettings;

pub(crate) use clients::REGISTERED_CLAIMS;
pub(crate) use providers::{ProviderSettings, SecretSource};
pub(crate) use reuse::Reuse;

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
    given: &[(&Path, &str)],
    previous: Option<&Reuse>,
) -> Report {
    if let Some(report) = fast::report(text, main, base, overrides, now, given, previous) {
        return report;
    }
    full::report(text, main, base, overrides, now, given)
}

/// The text `given` for the included file `file`, if any: an edit not yet
/// written, or what a reload read.
pub(super) fn given_text<'a>(given: &[(&Path, &'a str)], file: &Path) -> Option<&'a str> {
    given
        .iter()
        .find(|(p, _)| *p == file)
        .or_else(|| given.iter().find(|(p, _)| same_file(p, file)))
        .map(|(_, text)| *text)
}

pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
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
    let mut certificates = super::certificates::build(raw, base, problems);
    let keys = super::keys::build(&raw.keys, base, now, problems);
    let providers = providers::build(
        raw.login.as_ref().map_or(&[][..], |l| &l.providers),
        "login.providers",
        base,
        problems,
    );
    let registry = registry::build(raw, base, &providers, problems, reused);
    let documents = cimd::build(&raw.client_metadata_documents, &registry, problems);
    let registry = registry.with_metadata_documents(documents);
    certificates.self_signed = registry.clients().any(|c| c.self_signed_certificate);
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
    let replay_max_per_client = raw
        .replay
        .max_per_client
        .map_or(tollgate_jose::replay::DEFAULT_MAX_PER_HOLDER, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        });
    let replay_capacity = raw
        .replay
        .capacity
        .map_or(tollgate_jose::replay::MEMORY_CAPACITY, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        });
    Config {
        include: Vec::new(),
        included: Vec::new(),
        replay,
        replay_max_per_client,
        replay_capacity,
        issuer,
        listen,
        management_listen,
        tls,
        certificates,
        keys,
        registry: std::sync::Arc::new(registry),
        providers,
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
    people::warn(raw, problems);
    if let Some(login) = &raw.login {
        providers::warn(&login.providers, "login.providers", problems);
    }
    super::certificates::warn(config, raw, problems);
    exchange::warn_loops(config, raw, problems);
}
