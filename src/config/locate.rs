//! Maps key paths (`clients[0].allowed_scopes[1]`) to lines and columns of
//! the TOML source, so every problem can be reported where it is.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{Document, Item, Table, Value};

/// Finds keys of one document. A 20 MB file with 100,000 clients takes
/// seconds to index whole, so a lookup first reads only the part that
/// can hold the key: the lines before the first table header, or the
/// `[[clients]]` element the path names. Only when the headers cannot be
/// read line by line (a quoted or odd header) is the whole text indexed.
pub(super) struct Locator<'a> {
    text: &'a str,
    /// `None`: the header scan is not to be trusted.
    headers: OnceCell<Option<Vec<Header>>>,
    full: OnceCell<HashMap<String, usize>>,
    lines: OnceCell<Vec<usize>>,
}

/// A `[table]` or `[[array]]` header line.
pub(super) struct Header {
    /// Byte offset of the line.
    pub start: usize,
    pub array: bool,
    /// The dotted name, one bare key a part.
    pub name: Vec<String>,
}

struct Entry {
    path: String,
    key: Range<usize>,
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    pub line: usize,
    pub column: usize,
}

impl<'a> Locator<'a> {
    /// Prepares lookups in `text`; nothing is read yet. A text that does
    /// not parse finds nothing (its parse error carries its own span).
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            headers: OnceCell::new(),
            full: OnceCell::new(),
            lines: OnceCell::new(),
        }
    }

    /// Where the key (or array element) at `path` starts.
    pub(super) fn find(&self, path: &str) -> Option<Position> {
        self.find_offset(path).map(|o| self.position(o))
    }

    pub(super) fn position(&self, offset: usize) -> Position {
        let lines = self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = lines.partition_point(|&start| start <= offset);
        let line_start = lines[line - 1];
        Position {
            line,
            column: self.text[line_start..offset].chars().count() + 1,
        }
    }

    fn find_offset(&self, path: &str) -> Option<usize> {
        let Some(headers) = self.headers.get_or_init(|| scan_headers(self.text)) else {
            return self.full_find(path);
        };
        let (first, index, rest) = split_first(path)?;
        let root = 0..headers.first().map_or(self.text.len(), |h| h.start);
        match self.region_find(root, path) {
            Ok(Some(o)) => return Some(o),
            Ok(None) => {}
            Err(()) => return self.full_find(path),
        }
        let ours: Vec<usize> = (0..headers.len())
            .filter(|&i| headers[i].name[0] == first)
            .collect();
        let (&head, &last) = (ours.first()?, ours.last()?);
        let end_after = |i: usize, stop: &dyn Fn(&Header) -> bool| {
            headers[i + 1..]
                .iter()
                .find(|h| stop(h))
                .map_or(self.text.len(), |h| h.start)
        };
        let found = match index {
            Some(i) => {
                let elements: Vec<usize> = ours
                    .iter()
                    .copied()
                    .filter(|&h| headers[h].array && headers[h].name.len() == 1)
                    .collect();
                let &element = elements.get(i)?;
                // The element runs to the next element or the next header
                // of another top-level name; its sub-tables stay in it.
                let end = end_after(element, &|h| h.name[0] != first || h.name.len() == 1);
                self.region_find(headers[element].start..end, &format!("{first}[0]{rest}"))
            }
            None if last - head + 1 == ours.len() => {
                let end = end_after(last, &|h| h.name[0] != first);
                self.region_find(headers[head].start..end, path)
            }
            // The table is split across the file: index it whole.
            None => Err(()),
        };
        found.unwrap_or_else(|()| self.full_find(path))
    }

    /// The key at `path` within `range` parsed on its own; `Err` when that
    /// part does not parse alone.
    fn region_find(&self, range: Range<usize>, path: &str) -> Result<Option<usize>, ()> {
        let entries = entries(&self.text[range.clone()]).ok_or(())?;
        Ok(entries
            .into_iter()
            .find(|e| e.path == path)
            .map(|e| range.start + e.key.start))
    }

    fn full_find(&self, path: &str) -> Option<usize> {
        let full = self.full.get_or_init(|| {
            let mut map = HashMap::new();
            for e in entries(self.text).unwrap_or_default() {
                map.entry(e.path).or_insert(e.key.start);
            }
            map
        });
        full.get(path).copied()
    }
}

/// Every key and array element of `text` with the span of its key (for
/// elements, of the element); `None` if it does not parse.
fn entries(text: &str) -> Option<Vec<Entry>> {
    // toml_edit 0.23 can panic on some malformed documents ("all items
    // have spans"; found by fuzzing). Locating is a nicety of error
    // reporting and must never take the server or `check` down.
    let doc = std::panic::catch_unwind(|| Document::parse(text).ok()).ok()??;
    let mut out = Vec::new();
    walk_table(doc.as_table(), "", &mut out);
    Some(out)
}

/// `clients[3].secrets[0]` → (`clients`, Some(3), `.secrets[0]`).
fn split_first(path: &str) -> Option<(&str, Option<usize>, &str)> {
    let cut = path.find(['.', '[']).unwrap_or(path.len());
    let (first, rest) = path.split_at(cut);
    if first.is_empty() {
        return None;
    }
    if let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']')?;
        let index = r[..close].parse().ok()?;
        return Some((first, Some(index), &r[close + 1..]));
    }
    Some((first, None, rest))
}

/// The header lines of `text`, skipping multi-line strings; `None` when a
/// line that starts with `[` is not a plain header of bare keys (a quoted
/// name, or an array of arrays laid out over lines), which only a full
/// parse reads right.
pub(super) fn scan_headers(text: &str) -> Option<Vec<Header>> {
    let mut headers = Vec::new();
    let mut open: Option<&str> = None;
    let mut start = 0;
    // Most files have no multi-line string: then no line needs searching
    // for quotes (at 100,000 clients that search was most of the scan).
    let multi_line = text.contains("\"\"\"") || text.contains("'''");
    for line in text.split_inclusive('\n') {
        if open.is_none() && line.trim_start().starts_with('[') {
            headers.push(header(line, start)?);
        }
        if !multi_line {
            start += line.len();
            continue;
        }
        // Toggle on each multi-line string delimiter, in order.
        let mut rest = line;
        while let Some(i) = rest.find(['"', '\'']) {
            let delimiter = if rest[i..].starts_with("\"\"\"") {
                "\"\"\""
            } else if rest[i..].starts_with("\'\'\'") {
                "\'\'\'"
            } else {
                rest = &rest[i + 1..];
                continue;
            };
            match open {
                None => open = Some(delimiter),
                Some(d) if d == delimiter => open = None,
                Some(_) => {}
            }
            rest = &rest[i + 3..];
        }
        start += line.len();
    }
    Some(headers)
}

fn header(line: &str, start: usize) -> Option<Header> {
    let t = line.trim();
    let array = t.starts_with("[[");
    let (open, close) = if array { ("[[", "]]") } else { ("[", "]") };
    let body = &t[open.len()..];
    let end = body.find(close)?;
    let after = body[end + close.len()..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let bare = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let name: Vec<String> = body[..end]
        .split('.')
        .map(|s| s.trim().to_owned())
        .collect();
    name.iter()
        .all(|s| bare(s))
        .then_some(Header { start, array, name })
}

/// The line and column of byte `offset` in `text` (clamped to the text and
/// to a character boundary).
pub(super) fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk_table(table: &Table, prefix: &str, out: &mut Vec<Entry>) {
    for (name, _) in table.iter() {
        let Some((key, item)) = table.get_key_value(name) else {
            continue;
        };
        let path = join(prefix, name);
        let key_span = key.span().or_else(|| item.span()).unwrap_or(0..0);
        walk_item(item, path, key_span, out);
    }
}

fn walk_item(item: &Item, path: String, key_span: Range<usize>, out: &mut Vec<Entry>) {
    match item {
        Item::Table(t) => {
            out.push(Entry {
                path: path.clone(),
                key: key_span,
            });
            walk_table(t, &path, out);
        }
        Item::ArrayOfTables(tables) => {
            out.push(Entry {
                path: path.clone(),
                key: key_span,
            });
            for (i, t) in tables.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let span = t.span().unwrap_or(0..0);
                out.push(Entry {
                    path: p.clone(),
                    key: span,
                });
                walk_table(t, &p, out);
            }
        }
        Item::Value(v) => walk_value(v, path, key_span, out),
        Item::None => {}
    }
}

fn walk_value(value: &Value, path: String, key_span: Range<usize>, out: &mut Vec<Entry>) {
    out.push(Entry {
        path: path.clone(),
        key: key_span,
    });
    match value {
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let span = v.span().unwrap_or(0..0);
                walk_value(v, format!("{path}[{i}]"), span, out);
            }
        }
        Value::InlineTable(t) => {
            for (name, _) in t.iter() {
                if let Some((key, item)) = t.get_key_value(name) {
                    let span = key.span().unwrap_or(0..0);
                    walk_item(item, join(&path, name), span, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "issuer = \"x\"\n\n[[clients]]\nclient_id = \"a\"\nallowed_scopes = [\"s1\", \"s2\"]\nclaims = { tenant = 1 }\n";

    #[test]
    fn key_paths_resolve_to_lines_and_columns() {
        let l = Locator::new(TEXT);
        assert_eq!(l.find("issuer"), Some(Position { line: 1, column: 1 }));
        assert_eq!(l.find("clients[0].client_id").unwrap().line, 4);
        assert_eq!(
            l.find("clients[0].allowed_scopes[1]"),
            Some(Position {
                line: 5,
                column: 25
            })
        );
        assert_eq!(l.find("clients[0].claims.tenant").unwrap().line, 6);
    }

    /// The part-reading lookup agrees with the whole-document index on
    /// every key, including headers in strings and split tables.
    #[test]
    fn reading_a_part_finds_what_reading_the_whole_finds() {
        let text = concat!(
            "issuer = \"x\"\nthrottle.window = \"1m\"\n\n",
            "[[clients]]\nclient_id = \"a\"\nallowed_scopes = [\n  \"s1\",\n  \"s2\",\n]\n",
            "description = \"\"\"\n[[clients]]\nnot a header\n\"\"\"\n",
            "[[clients.secrets]]\nhash = \"h1\"\n[[clients.secrets]]\nhash = \"h2\"\n",
            "[clients.claims]\ntenant = 1\n\n",
            "[server]\nlisten = \"127.0.0.1:1\"\n",
            "[[clients]]  # the second\nclient_id = \"b\"\nclaims = { a = { b = 2 } }\n",
            "[[clients.secrets]]\nhash = \"h3\"\n",
            "[[api_scopes]]\nname = \"s1\"\n[[api_scopes]]\nname = \"s2\"\n",
            "[server.tls]\ncert = \"c\"\n",
            "[keys]\n[[keys.signing]]\nkid = \"1\"\n[[keys.signing]]\nkid = \"2\"\n",
        );
        let whole = entries(text).expect("parses");
        let l = Locator::new(text);
        assert!(
            l.headers.get_or_init(|| scan_headers(text)).is_some(),
            "the header scan trusts this text"
        );
        for e in &whole {
            assert_eq!(
                l.find(&e.path),
                Some(position(text, e.key.start)),
                "{}",
                e.path
            );
        }
        assert_eq!(l.find("clients[1].secrets[0].hash").unwrap().line, 27);
        assert_eq!(l.find("clients[2]"), None);
        assert_eq!(l.find("nothing"), None);
        assert!(
            l.full.get().is_some(),
            "the split [server] table was read whole"
        );
        let quoted = Locator::new("[[\"clients\"]]\nclient_id = \"a\"\n");
        assert_eq!(quoted.find("clients[0].client_id").unwrap().line, 2);
    }
}
