//! A file with many `[[clients]]` elements parsed in parts: the toml
//! crate builds a tree of the whole document before deserializing it,
//! about 25 bytes of tree for each byte of text, so 100,000 clients (a
//! 22 MB file) took half a gigabyte at once, and the time to get that
//! memory from the system was most of a reload's. Parsed a thousand
//! elements at a time, the tree stays small.

use std::ops::Range;

use super::locate::{Header, scan_headers};

/// The elements parsed together.
pub(super) const BATCH: usize = 1000;

/// `text` cut into the `[[clients]]` elements (each from its header to the
/// next element or the next header of another top-level name, so that its
/// `[[clients.secrets]]` and `[clients.claims]` stay with it) and the rest
/// of the text. Headers are absolute paths in TOML, so the rest parses as
/// the file without its clients, and each element as a file of one client.
/// `None` when that cannot be relied on: a header the line scan cannot read
/// (a quoted name, a multi-line array), or a `clients` table that is not
/// inside an element.
pub(super) fn clients(text: &str) -> Option<(String, Vec<Range<usize>>)> {
    elements(text, "clients")
}

/// `text` cut into the elements of the array of tables `name` and the
/// rest, as [`clients`] does for `[[clients]]`.
pub(super) fn elements(text: &str, name: &str) -> Option<(String, Vec<Range<usize>>)> {
    let headers = scan_headers(text)?;
    let is_element = |h: &Header| h.array && h.name.len() == 1 && h.name[0] == name;
    let mut elements: Vec<Range<usize>> = Vec::new();
    let mut inside = false;
    for (i, h) in headers.iter().enumerate() {
        let end = headers.get(i + 1).map_or(text.len(), |n| n.start);
        if is_element(h) {
            elements.push(h.start..end);
            inside = true;
        } else if h.name[0] == name {
            // A sub-table of the element above; `[clients]` or one before
            // any element is for the whole parse to judge.
            if !inside || h.name.len() == 1 {
                return None;
            }
            elements.last_mut()?.end = end;
        } else {
            inside = false;
        }
    }
    let mut rest =
        String::with_capacity(text.len() - elements.iter().map(|e| e.len()).sum::<usize>());
    let mut at = 0;
    for e in &elements {
        rest.push_str(&text[at..e.start]);
        at = e.end;
    }
    rest.push_str(&text[at..]);
    Some((rest, elements))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_keep_their_sub_tables_and_the_rest_keeps_the_other_tables() {
        let text = "issuer = \"x\"\n\n[[clients]]\nclient_id = \"a\"\n[[clients.secrets]]\nhash = \"h\"\n\
                    [server]\nlisten = \"l\"\n[[clients]]\nclient_id = \"b\"\n[clients.claims]\nk = 1\n\
                    [[api_scopes]]\nname = \"s\"\n";
        let (rest, elements) = clients(text).unwrap();
        let parts: Vec<&str> = elements.iter().map(|e| &text[e.clone()]).collect();
        assert_eq!(
            parts,
            [
                "[[clients]]\nclient_id = \"a\"\n[[clients.secrets]]\nhash = \"h\"\n",
                "[[clients]]\nclient_id = \"b\"\n[clients.claims]\nk = 1\n",
            ]
        );
        assert_eq!(
            rest,
            "issuer = \"x\"\n\n[server]\nlisten = \"l\"\n[[api_scopes]]\nname = \"s\"\n"
        );
    }

    #[test]
    fn what_the_line_scan_cannot_vouch_for_is_not_split() {
        // A clients table outside an element, a quoted header, an array of
        // arrays laid out over lines, a header inside a multi-line string.
        assert!(clients("[clients.x]\na = 1\n[[clients]]\nclient_id = \"a\"\n").is_none());
        assert!(clients("[[clients]]\nclient_id = \"a\"\n[clients]\n").is_none());
        assert!(clients("[[\"clients\"]]\nclient_id = \"a\"\n").is_none());
        assert!(clients("x = [\n[\"a\"],\n]\n[[clients]]\n").is_none());
        let (rest, elements) =
            clients("d = \"\"\"\n[[clients]]\n\"\"\"\n[[clients]]\nclient_id = \"a\"\n").unwrap();
        assert_eq!(elements.len(), 1);
        assert_eq!(rest, "d = \"\"\"\n[[clients]]\n\"\"\"\n");
    }
}
