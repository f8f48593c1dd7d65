//! Problems of a file: where (a key path, placed at its line), what, and a
//! hint; collected, not stopped at, so `check` reports every one.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::locate::Locator;
use super::raw::RawDateTime;

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
    /// Every problem of an invalid file (none for an unreadable one).
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

/// Collects problems, placing each at its line (or naming the
/// environment variable that set it).
pub(super) struct Problems<'a> {
    text: &'a str,
    locator: OnceCell<Locator<'a>>,
    from_env: &'a BTreeMap<String, String>,
    pub(super) list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(super) fn new(text: &'a str, from_env: &'a BTreeMap<String, String>) -> Self {
        Self {
            text,
            locator: OnceCell::new(),
            from_env,
            list: Vec::new(),
        }
    }

    /// Built on the first problem only: a valid file never pays for it.
    fn locator(&self) -> &Locator<'a> {
        self.locator.get_or_init(|| Locator::new(self.text))
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add_hinted(path, message, None);
    }

    pub(super) fn add_hinted(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) {
        let key_path = path.into();
        let mut message = message.into();
        let pos = match ancestors(&key_path).find_map(|p| self.from_env.get(p)) {
            Some(var) => {
                message = format!("{message} (set by environment variable {var})");
                None
            }
            // A path the document doesn't hold (a defaulted key) is
            // reported at its parent, the nearest place one can act on.
            None => ancestors(&key_path).find_map(|p| self.locator().find(p)),
        };
        self.list.push(Problem {
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            key_path,
            message,
            hint: hint.map(str::to_owned),
        });
    }
}

/// `a.b[1].c`, `a.b[1]`, `a.b`, `a`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.rfind(['.', '[']).map(|i| &current[..i]);
        Some(current)
    })
}

/// A date-time of the file: TOML's own, or an RFC 3339 string.
pub(super) fn parse_datetime(raw: &RawDateTime) -> Result<OffsetDateTime, String> {
    let text = match raw {
        RawDateTime::Toml(dt) => dt.to_string(),
        RawDateTime::Text(s) => s.clone(),
    };
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
        format!("{text} is not a date-time with an offset; write e.g. 2027-01-01T00:00:00Z")
    })
}
