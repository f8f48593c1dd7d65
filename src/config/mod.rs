//! `identity.toml`: the raw serde mirror ([`raw`]), the validated
//! [`Config`] the server runs on, and the problems a file can have.
//!
//! Loading is one path for `serve`, `check` and (later) reload: read, parse
//! into [`raw::RawConfig`] (shape), then [`validate`] (meaning), collecting
//! every problem with its line.

pub mod duration;
pub mod locate;
pub mod raw;
pub mod reload;
mod validate;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::oauth::{Client, ScopeSet, ScopeToken};

pub use validate::REGISTERED_CLAIMS;

/// The default listen address, also the port of the quickstart.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5001";

/// A validated configuration. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct Config {
    /// The configured issuer without a trailing slash, if set.
    pub issuer: Option<String>,
    pub listen: String,
    pub keys: KeysConfig,
    pub scopes: Vec<ApiScope>,
    pub resources: Vec<ApiResource>,
    clients: HashMap<String, Arc<Client>>,
    /// All declared scopes, in file order, for discovery.
    pub scopes_supported: ScopeSet,
}

impl Config {
    pub fn client(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id)
    }

    pub fn clients(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.clients.values()
    }

    /// Reads and validates a file. Relative paths in it resolve against its
    /// folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            file: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&text, path)
    }

    /// Validates `text` as if it were the file at `path`.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        validate::from_toml(text, base).map_err(|problems| ConfigError::Invalid {
            file: path.to_owned(),
            problems,
        })
    }
}

/// Where the signing keys come from.
#[derive(Debug, Clone)]
pub struct KeysConfig {
    /// Absolute or relative to the working directory (already resolved
    /// against the config file's folder).
    pub dir: PathBuf,
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
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}", file.display())?;
                    if let Some(line) = p.line {
                        write!(f, ":{line}:{}", p.column.unwrap_or(1))?;
                    }
                    if !p.key_path.is_empty() {
                        write!(f, ": {}", p.key_path)?;
                    }
                    write!(f, ": {}", p.message)?;
                    if let Some(hint) = &p.hint {
                        write!(f, "\n  hint: {hint}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The JSON schema of `identity.toml`, generated from the raw types.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(raw::RawConfig);
    serde_json::to_string_pretty(&schema).expect("a schema serializes")
}
