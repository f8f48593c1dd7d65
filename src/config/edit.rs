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
    element(doc, "clients", "client_id", id)
}

/// The index of the element of the array of tables `section` whose `key`
/// is `value`.
fn element(doc: &mut DocumentMut, section: &str, key: &str, value: &str) -> Option<usize> {
    doc.get_mut(section)
        .and_then(Item::as_array_of_tables_mut)?
        .iter()
        .position(|t| t.get(key).and_then(Item::as_str) == Some(value))
}

/// `text` with `table` appended to its array of tables `section`.
fn append(text: &str, section: &str, table: Table) -> Result<String, String> {
    let mut doc = parse(text)?;
    // A file of comments only (a team's new file): toml_edit keeps them
    // as the text after the last item, which would put them below the
    // new element; they stay on top instead.
    if doc.as_table().is_empty() && !text.trim().is_empty() {
        let added = append("", section, table)?;
        let sep = if text.ends_with('\n') { "\n" } else { "\n\n" };
        return Ok(format!("{text}{sep}{added}"));
    }
    if doc.get(section).is_some_and(|c| !c.is_array_of_tables()) {
        return Err(format!(
            "`{section}` is not written as [[{section}]] tables; edit it by hand"
        ));
    }
    doc.entry(section)
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .expect("checked above")
        .push(table);
    Ok(doc.to_string())
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
    append(text, "clients", table)
}

/// Whether the text declares user `name`.
pub(crate) fn has_user(text: &str, name: &str) -> bool {
    parse(text).is_ok_and(|mut doc| element(&mut doc, "users", "username", name).is_some())
}

/// What `users add` writes.
pub(crate) struct NewUser<'a> {
    pub username: &'a str,
    /// The Argon2id hash of her password.
    pub hash: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub groups: &'a [String],
}

/// Appends a `[[users]]` entry.
pub(crate) fn add_user(text: &str, user: &NewUser<'_>) -> Result<String, String> {
    let mut table = Table::new();
    table["username"] = value(user.username);
    table["password_hash"] = value(user.hash);
    if let Some(name) = user.name {
        table["name"] = value(name);
    }
    if let Some(email) = user.email {
        table["email"] = value(email);
    }
    if !user.groups.is_empty() {
        let mut groups = toml_edit::Array::new();
        for g in user.groups {
            groups.push(g.as_str());
        }
        table["groups"] = value(groups);
    }
    append(text, "users", table)
}

/// Replaces user `name`'s password hash. `None` when the text does not
/// declare her.
pub(crate) fn set_password(text: &str, name: &str, hash: &str) -> Result<Option<String>, String> {
    let mut doc = parse(text)?;
    let Some(i) = element(&mut doc, "users", "username", name) else {
        return Ok(None);
    };
    let user = doc["users"]
        .as_array_of_tables_mut()
        .and_then(|u| u.get_mut(i))
        .expect("found above");
    // The value replaced in place keeps the key's comments and spacing.
    match user.get_mut("password_hash").and_then(Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = hash.into();
            *old.decor_mut() = decor;
        }
        None => user["password_hash"] = value(hash),
    }
    Ok(Some(doc.to_string()))
}

/// Removes user `name`. `None` when the text does not declare her.
pub(crate) fn remove_user(text: &str, name: &str) -> Result<Option<String>, String> {
    remove(text, "users", "username", name)
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
    remove(text, "clients", "client_id", id)
}

/// Removes the element of `section` whose `key` is `value`. `None` when
/// there is none.
fn remove(text: &str, section: &str, key: &str, value: &str) -> Result<Option<String>, String> {
    let mut doc = parse(text)?;
    let Some(i) = element(&mut doc, section, key, value) else {
        return Ok(None);
    };
    let list = doc[section].as_array_of_tables_mut().expect("found above");
    let prefix = list
        .get(i)
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_owned();
    list.remove(i);
    let mut out = doc.to_string();
    // The comments atop the file are toml_edit's decor of its first
    // table: those a blank line sets apart are the file's, not the
    // element's, and stay.
    let first = text
        .strip_prefix(prefix.as_str())
        .is_some_and(|rest| rest.starts_with(&format!("[[{section}]]")));
    if first && let Some(end) = prefix.rfind("\n\n") {
        out.insert_str(0, &prefix[..=end]);
    }
    Ok(Some(out))
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
    fn users_are_added_given_a_password_and_removed_leaving_every_other_byte() {
        let user = NewUser {
            username: "carol",
            hash: "u1",
            name: Some("Carol"),
            email: None,
            groups: &["admins".into()],
        };
        let added = add_user(TEXT, &user).unwrap();
        assert!(added.starts_with(TEXT), "{added}");
        assert!(
            added.ends_with("[[users]]\nusername = \"carol\"\npassword_hash = \"u1\"\nname = \"Carol\"\ngroups = [\"admins\"]\n"),
            "{added}"
        );
        assert!(has_user(&added, "carol") && !has_user(&added, "client"));
        let commented = added.replace(
            "password_hash = \"u1\"",
            "password_hash = \"u1\"   # set 2026-12",
        );
        let changed = set_password(&commented, "carol", "u2").unwrap().unwrap();
        assert_eq!(changed, commented.replace("\"u1\"", "\"u2\""));
        assert_eq!(set_password(TEXT, "carol", "h2").unwrap(), None);
        let removed = remove_user(&added, "carol").unwrap().unwrap();
        assert_eq!(removed.trim_end(), TEXT.trim_end());
        assert_eq!(remove_user(TEXT, "carol").unwrap(), None);
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
