//! Maps key paths (`clients[0].allowed_scopes[1]`) to lines and columns of
//! the TOML source, so every problem can be reported where it is.

use std::ops::Range;

use toml_edit::{Document, Item, Table, Value};

/// Every key and array element of a document with the byte span of its key
/// (for elements, of the element).
pub struct Locator<'a> {
    text: &'a str,
    entries: Vec<Entry>,
}

struct Entry {
    path: String,
    key: Range<usize>,
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl<'a> Locator<'a> {
    /// Indexes `text`; a text that does not parse yields an empty index (the
    /// parse error then carries its own span).
    pub fn new(text: &'a str) -> Self {
        let mut entries = Vec::new();
        // toml_edit 0.23 can panic on some malformed documents ("all items
        // have spans"; found by fuzzing). Locating is a nicety of error
        // reporting and must never take the server or `check` down.
        let parsed = std::panic::catch_unwind(|| Document::parse(text).ok());
        if let Ok(Some(doc)) = parsed {
            walk_table(doc.as_table(), "", &mut entries);
        }
        Self { text, entries }
    }

    /// Where the key (or array element) at `path` starts.
    pub fn find(&self, path: &str) -> Option<Position> {
        self.entries
            .iter()
            .find(|e| e.path == path)
            .map(|e| self.position(e.key.start))
    }

    pub fn position(&self, offset: usize) -> Position {
        position(self.text, offset)
    }
}

/// The line and column of byte `offset` in `text` (clamped to the text and
/// to a character boundary).
pub fn position(text: &str, offset: usize) -> Position {
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
}
