//! `identity.toml`: the raw serde mirror ([`raw`]), the validated
//! [`Config`] the server runs on, and the problems a file can have.
//!
//! Loading is one path for `serve`, `check` and reload: read, parse into
//! [`raw::RawConfig`] (shape, against the schema generated from it), then
//! `validate` (meaning), collecting every problem with its line. The
//! protocol core's [`Registry`] is built here; the core never sees this
//! module.

pub(crate) mod certificates;
pub(crate) mod diff;
pub(crate) mod duration;
pub(crate) mod edit;
mod events;
mod files;
mod include;
mod keys;
mod locate;
mod problems;
mod raw;
mod raw_cimd;
mod raw_keys;
mod raw_people;
mod raw_providers;
mod raw_server;
pub(crate) mod reload;
mod sealing;
mod shape;
mod sources;
mod split;
mod stamp;
mod tidy;
mod tls;
mod validate;
pub(crate) mod watch;
mod watched;
mod writes;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::keys::{KeyRing, SigningKey};
use tollgate_core::{Registry, ThrottleSettings};

pub use problems::{ConfigError, Problem};
pub use sources::Overrides;
pub(crate) use tls::TlsFiles;
pub(crate) use validate::{REGISTERED_CLAIMS, Report, Reuse, SecretSource};

/// The default listen address, also the port of the quickstart.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:5001";

/// A validated configuration. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct Config {
    /// The configured issuer without a trailing slash, if set.
    pub issuer: Option<String>,
    pub listen: SocketAddr,
    /// `server.management_listen`: full metrics and health, apart.
    pub management_listen: Option<SocketAddr>,
    /// `[server.tls]`: serve HTTPS with these files.
    pub tls: Option<TlsFiles>,
    /// Client certificates: `client_ca`, trust domains, proxies.
    pub certificates: certificates::CertificateSettings,
    pub keys: KeysConfig,
    /// Clients, scopes and resources, for the protocol core.
    pub registry: Arc<Registry>,
    /// `[[login.providers]]` with where each client secret is read from
    /// (the registry's `Login` has the same providers, without that).
    pub(crate) providers: Vec<validate::ProviderSettings>,
    pub throttle: ThrottleSettings,
    pub replay: ReplaySetting,
    /// `[replay] max_per_client`: live ids one client may hold.
    pub replay_max_per_client: usize,
    /// `[replay] capacity`: ids the memory store holds at most.
    pub replay_capacity: usize,
    /// `include`'s glob patterns, resolved against the main file's folder.
    pub include: Vec<String>,
    /// The files they named when this configuration was read.
    pub included: Vec<PathBuf>,
}

impl Config {
    /// Where the client secret of provider `name` is read from.
    pub(crate) fn provider_secret(&self, name: &str) -> Option<&SecretSource> {
        self.providers
            .iter()
            .find(|p| p.provider.name.as_str() == name)
            .map(|p| &p.secret)
    }

    /// The issuer when the file sets none: the address the server listens
    /// on (`localhost` for an unspecified one), `https` when it serves TLS.
    /// One rule, so `check --show-origin` says what `serve` will use.
    pub fn default_issuer(&self, listening: SocketAddr) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        if listening.ip().is_unspecified() {
            format!("{scheme}://localhost:{}", listening.port())
        } else {
            format!("{scheme}://{listening}")
        }
    }

    /// SHA-256 (hex) of the main file's `bytes` and every file `include`
    /// names now: changes with an edit of any of them, or a file added or
    /// removed.
    pub fn files_fingerprint(&self, main_path: &Path, bytes: &[u8]) -> String {
        let files = include::expand(&self.include, main_path).unwrap_or_default();
        include::fingerprint(bytes, &files)
    }
}

/// `[replay] store`.
#[derive(Clone, PartialEq, Eq)]
pub enum ReplaySetting {
    Memory,
    /// A `redis://` or `rediss://` URL.
    Redis(String),
}

impl ReplaySetting {
    /// How the store is shown to people: a Redis URL's password becomes
    /// `***`, since a diff, a log line or Debug output is no place for it.
    pub fn redacted(&self) -> String {
        match self {
            ReplaySetting::Memory => "memory".to_owned(),
            ReplaySetting::Redis(raw) => match url::Url::parse(raw) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "redis (unparsable URL)".to_owned(),
            },
        }
    }
}

impl std::fmt::Debug for ReplaySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Config {
    /// Reads and validates a file, without environment overrides, at
    /// `now`. Relative paths in it resolve against its folder.
    pub fn load(path: &Path, now: time::OffsetDateTime) -> Result<Config, ConfigError> {
        Self::from_toml(&read(path)?, path, now)
    }

    /// Validates `text` as if it were the file at `path`, without
    /// environment overrides, at `now`.
    pub fn from_toml(
        text: &str,
        path: &Path,
        now: time::OffsetDateTime,
    ) -> Result<Config, ConfigError> {
        let report = check(text, path, Overrides::None, now);
        report.config.ok_or(ConfigError::Invalid {
            file: path.to_owned(),
            problems: report.errors,
        })
    }
}

/// Reads a config file as text.
pub(crate) fn read(path: &Path) -> Result<String, ConfigError> {
    let unreadable = |reason: String| ConfigError::Unreadable {
        file: path.to_owned(),
        reason,
    };
    let bytes = files::read_limited(path).map_err(|e| unreadable(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))
}

/// The one validation path of `serve`, `check` and reload: every error and
/// warning of `text` as the file at `path`.
pub fn check(text: &str, path: &Path, overrides: Overrides, now: time::OffsetDateTime) -> Report {
    check_reusing(text, path, overrides, now, None)
}

/// The folder relative paths in the file at `path` resolve against: its
/// own (`.` for a file named without one).
pub(crate) fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// [`check`], taking over the unchanged clients of `previous` (what the
/// validation of the configuration in force left, [`Report::reusable`]).
pub(crate) fn check_reusing(
    text: &str,
    path: &Path,
    overrides: Overrides,
    now: time::OffsetDateTime,
    previous: Option<&Reuse>,
) -> Report {
    check_given(text, path, (overrides, now), previous, &[])
}

/// [`check_reusing`] with the included files in `given` read as given (a
/// reload validates the contents it saw settle, not a later read).
fn check_given(
    text: &str,
    path: &Path,
    (overrides, now): (Overrides, time::OffsetDateTime),
    previous: Option<&Reuse>,
    given: &[(&Path, &str)],
) -> Report {
    let base = folder_of(path);
    validate::report(text, path, base, overrides, now, given, previous)
}

/// [`check`] of the main file `text` at `path`, with the included file
/// `edited.0` read as `edited.1`: an edit validated before it is written.
pub(crate) fn check_edited(
    text: &str,
    path: &Path,
    edited: (&Path, &str),
    now: time::OffsetDateTime,
) -> Report {
    let base = folder_of(path);
    validate::report(
        text,
        path,
        base,
        Overrides::Environment,
        now,
        &[edited],
        None,
    )
}

/// Whether the fast and the full validation of `text` (a main file at
/// `path`) agree, for the differential fuzz target: `Err` with both
/// answers when they do not.
#[doc(hidden)]
pub fn validation_paths_agree(
    text: &str,
    path: &Path,
    now: time::OffsetDateTime,
) -> Result<(), (String, String)> {
    let base = path.parent().unwrap_or(Path::new("."));
    validate::agree::agree(text, path, base, now)
}

/// The signing keys: how they are managed, and the JWKS cache time.
#[derive(Debug, Clone)]
pub struct KeysConfig {
    pub mode: KeyMode,
    /// Where the key that seals codes, refresh tokens and sessions is.
    pub sealing: crate::keys::sealing::SealingSource,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age: std::time::Duration,
}

#[derive(Debug, Clone)]
pub enum KeyMode {
    /// tollgate creates, rotates and deletes keys in `dir` (already
    /// resolved against the config file's folder).
    Automatic {
        dir: PathBuf,
        rotation: crate::keys::auto::Rotation,
    },
    /// The keys of `[[keys.signing]]`, read at validation, and their ring
    /// (built once).
    Declared {
        keys: Vec<DeclaredKey>,
        ring: Arc<KeyRing>,
    },
}

/// One `[[keys.signing]]` entry, its key file parsed or its token key
/// found.
#[derive(Debug, Clone)]
pub struct DeclaredKey {
    pub source: KeyStorage,
    pub key: Arc<SigningKey>,
    pub activate_at: time::OffsetDateTime,
    pub retire_at: Option<time::OffsetDateTime>,
}

/// Where a declared key is.
#[derive(Debug, Clone)]
pub enum KeyStorage {
    /// A key file, and the SHA-256 of it as it was read.
    File { path: PathBuf, sha256: [u8; 32] },
    /// A key in a PKCS#11 token (paths resolved).
    Pkcs11(crate::keys::Pkcs11Key),
}

impl DeclaredKey {
    /// The key file, for a key in a file.
    pub fn file(&self) -> Option<&Path> {
        match &self.source {
            KeyStorage::File { path, .. } => Some(path),
            KeyStorage::Pkcs11(_) => None,
        }
    }
}

impl KeyMode {
    /// Declared keys and their ring.
    pub fn declared(keys: Vec<DeclaredKey>) -> Self {
        let ring = Arc::new(KeyRing::new(
            keys.iter()
                .map(|k| crate::keys::Entry {
                    key: k.key.clone(),
                    activate_at: k.activate_at,
                    publish_until: k.retire_at,
                })
                .collect(),
        ));
        Self::Declared { keys, ring }
    }
}

/// The JSON schema of `identity.toml`, generated from the raw types.
pub fn schema_json() -> String {
    serde_json::to_string_pretty(&shape::schema(shape::Kind::Main)).expect("a schema serializes")
}

/// The JSON schema of a file named by `include`.
pub fn included_schema_json() -> String {
    serde_json::to_string_pretty(&shape::schema(shape::Kind::Included))
        .expect("a schema serializes")
}

/// An effective setting and where it came from, for `check --show-origin`.
pub(crate) struct Origin {
    pub key: &'static str,
    pub value: String,
    /// `FILE:LINE`, `environment TOLLGATE_...`, or `default`.
    pub source: String,
}

/// Where each scalar setting of `config` (loaded from `text` at `path`)
/// came from.
pub(crate) fn origins(text: &str, path: &Path, config: &Config) -> Vec<Origin> {
    let from_env = sources::document(text, Overrides::Environment)
        .map(|d| d.from_env)
        .unwrap_or_default();
    let locator = locate::Locator::new(text);
    let source = |key: &str| match (from_env.get(key), locator.find(key)) {
        (Some(var), _) => format!("environment {var}"),
        (None, Some(pos)) => format!("{}:{}", path.display(), pos.line),
        (None, None) => "default".into(),
    };
    let settings: [(&'static str, String); 6] = [
        (
            "issuer",
            config.issuer.clone().unwrap_or_else(|| {
                let issuer = config.default_issuer(config.listen);
                format!("{issuer} (from the listen address)")
            }),
        ),
        ("server.listen", config.listen.to_string()),
        (
            "server.management_listen",
            config
                .management_listen
                .map_or_else(|| "(none)".into(), |a| a.to_string()),
        ),
        ("replay.store", config.replay.redacted()),
        (
            "keys.dir",
            match &config.keys.mode {
                KeyMode::Automatic { dir, .. } => dir.display().to_string(),
                KeyMode::Declared { .. } => "(declared keys)".into(),
            },
        ),
        (
            "keys.algorithm",
            match &config.keys.mode {
                KeyMode::Automatic { rotation, .. } => rotation.algorithm.to_string(),
                KeyMode::Declared { ring, .. } => {
                    let mut algs: Vec<_> =
                        ring.entries().iter().map(|e| e.key.algorithm()).collect();
                    algs.sort();
                    algs.dedup();
                    let algs: Vec<_> = algs.iter().map(|a| a.as_str()).collect();
                    algs.join(", ")
                }
            },
        ),
    ];
    settings
        .into_iter()
        .map(|(key, value)| Origin {
            key,
            source: source(key),
            value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ReplaySetting;

    #[test]
    fn a_redis_password_is_never_shown() {
        let store = ReplaySetting::Redis("redis://user:hunter2@cache:6379/0".into());
        assert_eq!(store.redacted(), "redis://user:***@cache:6379/0");
        assert!(!format!("{store:?}").contains("hunter2"));
        let plain = ReplaySetting::Redis("redis://cache:6379".into());
        assert_eq!(plain.redacted(), "redis://cache:6379");
        assert_eq!(ReplaySetting::Memory.redacted(), "memory");
    }
}
