//! Edits of a config file that leave every other byte as it was
//! (comments, order, spacing): toml_edit's format-preserving document.
//! Each edit is pure (text in, text out); the caller validates the result
//! as `check` does and writes it atomically.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

fn parse(text: &str) -> Result<DocumentMut, String> {
    text.parse::<DocumentMut>()
        .map_err(|e| format!("not valid TOML ({})", e.message().trim()))
}

/// The `[[clients]]` of `doc`, if it has them as an array of tables.
fn clients(doc: &mut DocumentMut) -> Option<&mut ArrayOfTables> {
    doc.get_mut("clients")
        .and_then(Item::as_array_of_tables_mut)
}

fn position(doc: &mut DocumentMut, id: &str) -> Option<usize> {
    clients(doc)?
        .iter()
        .position(|t| t.get("client_id").and_then(Item::as_str) == Some(id))
}

/// Whether the text registers client `id`.
pub(crate) fn has_client(text: &str, id: &str) -> bool {
    parse(text).is_ok_and(|mut doc| position(&mut doc, id).is_some())
}

/// What `clients add` writes.
pub(crate) struct NewClient<'a> {
    pub id: &'a str,
    pub scopes: &'a [String],
    pub lifetime: Option<&'a str>,
    /// The Argon2id hash of its first secret, if it gets one.
    pub hash: Option<&'a str>,
}

/// Appends a `[[clients]]` entry.
pub(crate) fn add_client(text: &str, client: &NewClient<'_>) -> Result<String, String> {
    let mut doc = parse(text)?;
    // A file of comments only (a team's new file): toml_edit keeps them
    // as the text after the last item, which would put them below the
    // client; they stay on top instead.
    if doc.as_table().is_empty() && !text.trim().is_empty() {
        let added = add_client("", client)?;
        let sep = if text.ends_with('\n') { "\n" } else { "\n\n" };
        return Ok(format!("{text}{sep}{added}"));
    }
    if doc.get("clients").is_some_and(|c| !c.is_array_of_tables()) {
        return Err(
            "`clients` is not written as [[clients]] tables; add the client by hand".into(),
        );
    }
    let mut table = Table::new();
    table["client_id"] = value(client.id);
    let mut scopes = toml_edit::Array::new();
    for s in client.scopes {
        scopes.push(s.as_str());
    }
    table["allowed_scopes"] = value(scopes);
    if let Some(lifetime) = client.lifetime {
        table["access_token_lifetime"] = value(lifetime);
    }
    if let Some(hash) = client.hash {
        let mut secret = Table::new();
        secret["hash"] = value(hash);
        let mut secrets = ArrayOfTables::new();
        secrets.push(secret);
        table.insert("secrets", Item::ArrayOfTables(secrets));
    }
    let list = doc
        .entry("clients")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    list.as_array_of_tables_mut()
        .expect("checked above")
        .push(table);
    Ok(doc.to_string())
}

/// Adds a secret to client `id` and makes every other secret that would
/// outlive `until` expire then. `None` when the text does not register
/// `id`.
pub(crate) fn rotate_secret(
    text: &str,
    id: &str,
    hash: &str,
    until: time::OffsetDateTime,
) -> Result<Option<String>, String> {
    let mut doc = parse(text)?;
    let Some(i) = position(&mut doc, id) else {
        return Ok(None);
    };
    let stamp = until
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    let datetime: toml_edit::Datetime = stamp.parse().map_err(|e| format!("{e}"))?;
    let table = clients(&mut doc)
        .and_then(|c| c.get_mut(i))
        .expect("found above");
    let secrets = table
        .entry("secrets")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or("the client's secrets are not written as [[clients.secrets]] tables")?;
    for secret in secrets.iter_mut() {
        let outlives = match secret.get("expires").and_then(|e| e.as_datetime()) {
            None => true,
            Some(existing) => time::OffsetDateTime::parse(
                &existing.to_string(),
                &time::format_description::well_known::Rfc3339,
            )
            .map_or(true, |t| t > until),
        };
        if outlives {
            secret["expires"] = value(datetime);
        }
    }
    let mut new = Table::new();
    new["hash"] = value(hash);
    secrets.push(new);
    Ok(Some(doc.to_string()))
}

/// Removes client `id`. `None` when the text does not register it.
pub(crate) fn remove_client(text: &str, id: &str) -> Result<Option<String>, String> {
    let mut doc = parse(text)?;
    let Some(i) = position(&mut doc, id) else {
        return Ok(None);
    };
    clients(&mut doc).expect("found above").remove(i);
    Ok(Some(doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# the quickstart\nissuer = \"x\"   # keep me\n\n[[api_scopes]]\nname = \"api1\"\n\n[[clients]]\nclient_id = \"client\"\nallowed_scopes = [\"api1\"]\n\n[[clients.secrets]]\nhash = \"h1\"\n";

    #[test]
    fn adding_a_client_leaves_every_other_byte_as_it_was() {
        let out = add_client(
            TEXT,
            &NewClient {
                id: "billing",
                scopes: &["api1".into()],
                lifetime: Some("15m"),
                hash: Some("h2"),
            },
        )
        .unwrap();
        assert!(out.starts_with(TEXT), "{out}");
        assert!(out.contains("client_id = \"billing\""));
        assert!(out.contains("[[clients.secrets]]\nhash = \"h2\""), "{out}");
        assert!(has_client(&out, "billing"));
    }

    #[test]
    fn rotating_expires_the_old_secrets_and_adds_one() {
        let until = time::macros::datetime!(2026-12-08 12:00 UTC);
        let out = rotate_secret(TEXT, "client", "h2", until).unwrap().unwrap();
        assert!(
            out.contains("hash = \"h1\"\nexpires = 2026-12-08T12:00:00Z"),
            "{out}"
        );
        assert!(out.contains("hash = \"h2\""), "{out}");
        assert!(out.starts_with("# the quickstart\nissuer = \"x\"   # keep me\n"));
        assert_eq!(rotate_secret(TEXT, "nobody", "h", until).unwrap(), None);
    }

    #[test]
    fn removing_a_client_removes_only_it() {
        let two = add_client(
            TEXT,
            &NewClient {
                id: "b",
                scopes: &[],
                lifetime: None,
                hash: None,
            },
        )
        .unwrap();
        let out = remove_client(&two, "b").unwrap().unwrap();
        assert_eq!(out.trim_end(), TEXT.trim_end());
    }
}
