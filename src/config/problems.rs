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
    /// The included file it is in; `None`: the main file.
    pub file: Option<PathBuf>,
    /// `clients[0].allowed_scopes[1]`; empty for the file as a whole.
    pub key_path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    /// `FILE:LINE:COL: [label: ]key.path: message`, then the hint; `file`
    /// is the main file's name (an included file's problem names its own).
    pub fn render(&self, file: &Path, label: Option<&str>) -> String {
        let file = self.file.as_deref().unwrap_or(file);
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

/// A text problems are placed in: the main file, or an included one.
struct Source<'a> {
    file: Option<PathBuf>,
    text: &'a str,
    locator: OnceCell<Locator<'a>>,
}

/// Collects problems, placing each at its line in its own file (or naming
/// the environment variable that set it).
pub(super) struct Problems<'a> {
    sources: Vec<Source<'a>>,
    /// For each list of the main document that included files joined:
    /// which source and index each element came from.
    provenance: Vec<(&'static str, Vec<(usize, usize)>)>,
    from_env: &'a BTreeMap<String, String>,
    pub(super) list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(super) fn new(text: &'a str, from_env: &'a BTreeMap<String, String>) -> Self {
        Self {
            sources: vec![Source {
                file: None,
                text,
                locator: OnceCell::new(),
            }],
            provenance: Vec::new(),
            from_env,
            list: Vec::new(),
        }
    }

    /// Adds an included file; returns its source number.
    pub(super) fn include(&mut self, file: PathBuf, text: &'a str) -> usize {
        self.sources.push(Source {
            file: Some(file),
            text,
            locator: OnceCell::new(),
        });
        self.sources.len() - 1
    }

    /// Records where the elements of the merged list `section` came from.
    pub(super) fn provenance(&mut self, section: &'static str, origins: Vec<(usize, usize)>) {
        self.provenance.push((section, origins));
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add_hinted(path, message, None);
    }

    /// A problem at `path` of source `source` (a path of that file).
    pub(super) fn add_in(
        &mut self,
        source: usize,
        path: String,
        message: String,
        hint: Option<&str>,
    ) {
        let src = &self.sources[source];
        let locator = src.locator.get_or_init(|| Locator::new(src.text));
        let pos = ancestors(&path).find_map(|p| locator.find(p));
        self.list.push(Problem {
            file: src.file.clone(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            key_path: path,
            message,
            hint: hint.map(str::to_owned),
        });
    }

    /// A problem of source `source` as a whole, at a byte offset (a TOML
    /// syntax error).
    pub(super) fn add_at(&mut self, source: usize, offset: Option<usize>, message: String) {
        let src = &self.sources[source];
        let pos = offset.map(|o| super::locate::position(src.text, o));
        self.list.push(Problem {
            file: src.file.clone(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            key_path: String::new(),
            message,
            hint: None,
        });
    }

    /// `clients[7].x` of the merged document as (source, `clients[2].x`).
    fn origin(&self, path: &str) -> (usize, String) {
        for (section, origins) in &self.provenance {
            let Some(rest) = path.strip_prefix(section).and_then(|r| r.strip_prefix('[')) else {
                continue;
            };
            let Some((index, tail)) = rest.split_once(']') else {
                continue;
            };
            if let Some(&(source, local)) = index.parse::<usize>().ok().and_then(|i| origins.get(i))
            {
                return (source, format!("{section}[{local}]{tail}"));
            }
        }
        (0, path.to_owned())
    }

    pub(super) fn add_hinted(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) {
        let (source, key_path) = self.origin(&path.into());
        let message = message.into();
        let from_env = match source {
            0 => ancestors(&key_path)
                .find_map(|p| self.from_env.get(p))
                .cloned(),
            _ => None,
        };
        if let Some(var) = from_env {
            let message = format!("{message} (set by environment variable {var})");
            self.list.push(Problem {
                file: None,
                line: None,
                column: None,
                key_path,
                message,
                hint: hint.map(str::to_owned),
            });
            return;
        }
        // A path the document doesn't hold (a defaulted key) is reported at
        // its parent, the nearest place one can act on.
        self.add_in(source, key_path, message, hint);
    }

    /// Every problem in file order: the main file first, then the included
    /// ones by name, each by line.
    pub(super) fn sorted(mut self) -> Vec<Problem> {
        self.list
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.list
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
