//! `identity.toml`: the raw serde mirror ([`raw`]), the validated
//! [`Config`] the server runs on, and the problems a file can have.
//!
//! Loading is one path for `serve`, `check` and (later) reload: read, parse
//! into [`raw::RawConfig`] (shape), then `validate` (meaning), collecting
//! every problem with its line.

pub mod duration;
mod keys;
pub mod locate;
pub mod raw;
pub mod reload;
mod shape;
pub mod sources;
pub mod tls;
mod validate;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::oauth::{Client, ScopeSet, ScopeToken};

pub use sources::Overrides;
pub use validate::{REGISTERED_CLAIMS, Report};

/// The default listen address, also the port of the quickstart.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5001";

/// A validated configuration. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct Config {
    /// The configured issuer without a trailing slash, if set.
    pub issuer: Option<String>,
    pub listen: String,
    /// `[server.tls]`: serve HTTPS with these files.
    pub tls: Option<tls::TlsFiles>,
    pub keys: KeysConfig,
    pub scopes: Vec<ApiScope>,
    pub resources: Vec<ApiResource>,
    clients: HashMap<String, Arc<Client>>,
    /// All declared scopes, in file order, for discovery.
    pub scopes_supported: ScopeSet,
    pub throttle: crate::oauth::throttle::ThrottleSettings,
}

impl Config {
    pub fn client(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id)
    }

    pub fn clients(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.clients.values()
    }

    /// Reads and validates a file, without environment overrides. Relative
    /// paths in it resolve against its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        Self::from_toml(&text, path)
    }

    /// Validates `text` as if it were the file at `path`, without
    /// environment overrides.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let report = check(text, path, Overrides::None, time::OffsetDateTime::now_utc());
        report.config.ok_or(ConfigError::Invalid {
            file: path.to_owned(),
            problems: report.errors,
        })
    }
}

/// Reads a config file as text.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let unreadable = |reason: String| ConfigError::Unreadable {
        file: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))
}

/// The one validation path of `serve`, `check` and reload: every error and
/// warning of `text` as the file at `path`.
pub fn check(text: &str, path: &Path, overrides: Overrides, now: time::OffsetDateTime) -> Report {
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    validate::check(text, base, overrides, now)
}

/// The signing keys: how they are managed, and the JWKS cache time.
#[derive(Debug, Clone)]
pub struct KeysConfig {
    pub mode: KeyMode,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age: std::time::Duration,
    /// Declared keys: their ring, built once at validation. `None` for
    /// automatic keys (their ring comes from the folder).
    declared_ring: Option<Arc<crate::keys::KeyRing>>,
}

#[derive(Debug, Clone)]
pub enum KeyMode {
    /// tollgate creates, rotates and deletes keys in `dir` (already
    /// resolved against the config file's folder).
    Automatic {
        dir: PathBuf,
        rotation: crate::keys::auto::Rotation,
    },
    /// The keys of `[[keys.signing]]`, read at validation.
    Declared(Vec<DeclaredKey>),
}

/// One `[[keys.signing]]` entry, its key file parsed.
#[derive(Debug, Clone)]
pub struct DeclaredKey {
    pub file: PathBuf,
    pub key: Arc<crate::keys::SigningKey>,
    pub activate_at: time::OffsetDateTime,
    pub retire_at: Option<time::OffsetDateTime>,
    /// SHA-256 of the file as it was read.
    pub sha256: [u8; 32],
}

impl KeysConfig {
    pub fn new(mode: KeyMode, jwks_max_age: std::time::Duration) -> Self {
        let declared_ring = match &mode {
            KeyMode::Automatic { .. } => None,
            KeyMode::Declared(keys) => Some(Arc::new(crate::keys::KeyRing::new(
                keys.iter()
                    .map(|k| crate::keys::Entry {
                        key: k.key.clone(),
                        activate_at: k.activate_at,
                        publish_until: k.retire_at,
                    })
                    .collect(),
            ))),
        };
        Self {
            mode,
            jwks_max_age,
            declared_ring,
        }
    }

    /// The ring of declared keys; `None` for automatic keys.
    pub fn declared_ring(&self) -> Option<&Arc<crate::keys::KeyRing>> {
        self.declared_ring.as_ref()
    }

    /// Whether a declared key file now differs from what was read (a
    /// Secret update can replace one under an unchanged config file).
    pub fn key_files_changed(&self) -> bool {
        use sha2::{Digest, Sha256};
        let KeyMode::Declared(keys) = &self.mode else {
            return false;
        };
        keys.iter().any(|k| {
            std::fs::read(&k.file).map_or(true, |bytes| {
                <[u8; 32]>::from(Sha256::digest(bytes)) != k.sha256
            })
        })
    }
}

#[derive(Debug, Clone)]
pub struct ApiScope {
    pub name: ScopeToken,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiResource {
    pub name: String,
    pub scopes: Vec<ScopeToken>,
}

/// One thing wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `clients[0].allowed_scopes[1]`; empty for the file as a whole.
    pub key_path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

/// Why a configuration cannot be used.
#[derive(Debug)]
pub enum ConfigError {
    Unreadable {
        file: PathBuf,
        reason: String,
    },
    Invalid {
        file: PathBuf,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Unreadable { .. } => &[],
            Self::Invalid { problems, .. } => problems,
        }
    }
}

impl fmt::Display for ConfigError {
    /// One line per problem, compiler style: `FILE:LINE:COL: key.path: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { file, reason } => {
                write!(f, "{}: cannot read: {reason}", file.display())
            }
            Self::Invalid { file, problems } => {
                let lines: Vec<_> = problems.iter().map(|p| p.render(file, None)).collect();
                f.write_str(&lines.join("\n"))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Problem {
    /// `FILE:LINE:COL: [label: ]key.path: message`, then the hint.
    pub fn render(&self, file: &Path, label: Option<&str>) -> String {
        let mut out = file.display().to_string();
        if let Some(line) = self.line {
            out += &format!(":{line}:{}", self.column.unwrap_or(1));
        }
        if let Some(label) = label {
            out += &format!(": {label}");
        }
        if !self.key_path.is_empty() {
            out += &format!(": {}", self.key_path);
        }
        out += &format!(": {}", self.message);
        if let Some(hint) = &self.hint {
            out += &format!("\n  hint: {hint}");
        }
        out
    }
}

/// The JSON schema of `identity.toml`, generated from the raw types.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(raw::RawConfig);
    serde_json::to_string_pretty(&schema).expect("a schema serializes")
}

/// An effective setting and where it came from, for `check --show-origin`.
pub struct Origin {
    pub key: &'static str,
    pub value: String,
    /// `FILE:LINE`, `environment TOLLGATE_...`, or `default`.
    pub source: String,
}

/// Where each scalar setting of `config` (loaded from `text` at `path`)
/// came from.
pub fn origins(text: &str, path: &Path, config: &Config) -> Vec<Origin> {
    let from_env = sources::document(text, Overrides::Environment)
        .map(|d| d.from_env)
        .unwrap_or_default();
    let locator = locate::Locator::new(text);
    let source = |key: &str| match (from_env.get(key), locator.find(key)) {
        (Some(var), _) => format!("environment {var}"),
        (None, Some(pos)) => format!("{}:{}", path.display(), pos.line),
        (None, None) => "default".into(),
    };
    let settings: [(&'static str, String); 4] = [
        (
            "issuer",
            config
                .issuer
                .clone()
                .unwrap_or_else(|| format!("http://{} (from the listen address)", config.listen)),
        ),
        ("server.listen", config.listen.clone()),
        (
            "keys.dir",
            match &config.keys.mode {
                KeyMode::Automatic { dir, .. } => dir.display().to_string(),
                KeyMode::Declared(_) => "(declared keys)".into(),
            },
        ),
        (
            "keys.algorithm",
            match &config.keys.mode {
                KeyMode::Automatic { rotation, .. } => rotation.algorithm.to_string(),
                KeyMode::Declared(keys) => {
                    let mut algs: Vec<_> = keys.iter().map(|k| k.key.algorithm()).collect();
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
