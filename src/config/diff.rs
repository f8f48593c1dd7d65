//! What an edit changes, for review before it is applied (a pull-request
//! check): settings, and clients, scopes, resources, trusted issuers,
//! signing keys and users (`people`) added, removed or changed, field by
//! field. Secrets are never shown, only whether they changed.

mod people;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::duration::show;
use super::{Config, KeyMode};
use tollgate_core::{Client, KeySource, Secrets};

/// One field of one entry, before and after.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Changed {
    pub id: String,
    pub changes: Vec<FieldChange>,
}

/// The differences of one kind of entry.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Section {
    pub added: Vec<String>,
    /// The scopes of each entry added, where it has scopes (clients,
    /// resources): what a reviewer must see of a new one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub added_scopes: BTreeMap<String, String>,
    pub removed: Vec<String>,
    pub changed: Vec<Changed>,
}

impl Section {
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Everything an edit changes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Diff {
    pub settings: Vec<FieldChange>,
    pub clients: Section,
    pub scopes: Section,
    pub resources: Section,
    pub trusted_issuers: Section,
    pub keys: Section,
    pub users: Section,
}

impl Diff {
    pub(crate) fn is_empty(&self) -> bool {
        self.settings.is_empty()
            && [
                &self.clients,
                &self.scopes,
                &self.resources,
                &self.trusted_issuers,
                &self.keys,
                &self.users,
            ]
            .iter()
            .all(|s| s.is_empty())
    }
}

type Summary = BTreeMap<String, BTreeMap<&'static str, String>>;

fn section(old: &Summary, new: &Summary) -> Section {
    let mut out = Section::default();
    for (id, fields) in new {
        match old.get(id) {
            None => {
                out.added.push(id.clone());
                if let Some(scopes) = fields.get("scopes").or(fields.get("allowed_scopes")) {
                    out.added_scopes.insert(id.clone(), scopes.clone());
                }
            }
            Some(before) => {
                let changes: Vec<FieldChange> = fields
                    .iter()
                    .map(|(k, v)| (k, before.get(k).cloned().unwrap_or_default(), v.clone()))
                    .chain(
                        before
                            .iter()
                            .filter(|(k, _)| !fields.contains_key(*k))
                            .map(|(k, v)| (k, v.clone(), String::new())),
                    )
                    .filter(|(_, a, b)| a != b)
                    .map(|(k, old, new)| FieldChange {
                        field: (*k).to_owned(),
                        old,
                        new,
                    })
                    .collect();
                if !changes.is_empty() {
                    out.changed.push(Changed {
                        id: id.clone(),
                        changes,
                    });
                }
            }
        }
    }
    out.removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    out
}

fn secrets(s: &Secrets) -> String {
    let expiries: Vec<String> = s
        .list
        .iter()
        .map(|x| {
            x.expires.map_or("never expires".into(), |e| {
                format!("expires {}", crate::keys::rfc3339(e))
            })
        })
        .collect();
    format!("{} ({})", s.list.len(), expiries.join(", "))
}

fn keys(k: &KeySource) -> String {
    match k {
        KeySource::None => "none".into(),
        KeySource::Static(set) => {
            let prints: Vec<&str> = set.0.iter().map(|k| k.thumbprint.as_str()).collect();
            format!("{} key(s): {}", prints.len(), prints.join(" "))
        }
        KeySource::Remote(r) if r.discovery => format!("discovery of {}", r.url),
        KeySource::Remote(r) => format!("fetched from {}", r.url),
    }
}

fn client(c: &Client) -> BTreeMap<&'static str, String> {
    let join = |v: Vec<String>| v.join(" ");
    BTreeMap::from([
        ("allowed_scopes", c.allowed_scopes.to_string()),
        (
            "allowed_grant_types",
            join(
                c.grant_types
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect(),
            ),
        ),
        ("access_token_lifetime", show(c.access_token_lifetime)),
        ("enabled", c.enabled.to_string()),
        (
            "claims",
            serde_json::Value::Object(c.claims.clone()).to_string(),
        ),
        ("secrets", secrets(&c.secrets)),
        ("secret hashes", hex::encode(&c.secrets.fingerprint[..6])),
        ("keys", keys(&c.keys)),
        (
            "federated",
            join(
                c.federated
                    .iter()
                    .map(|r| {
                        let conditions: Vec<String> = r
                            .claims
                            .iter()
                            .map(|c| format!("{}={}", c.path, c.value))
                            .collect();
                        format!(
                            "{}:{} [{}]",
                            r.issuer,
                            r.subject.as_str(),
                            conditions.join(",")
                        )
                    })
                    .collect(),
            ),
        ),
        ("require_dpop", c.require_dpop.to_string()),
        (
            "tokens_valid_after",
            c.tokens_valid_after
                .map(crate::keys::rfc3339)
                .unwrap_or_default(),
        ),
    ])
}

/// A path the file names, as it is relative to the file's folder when it
/// is inside it or named relative to it (`keys`, `../shared/keys`), so
/// that two copies of a file in different folders show the same: each
/// resolves it against its own folder. Absolute paths stay absolute.
fn as_written(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn settings(c: &Config, base: &Path) -> BTreeMap<&'static str, String> {
    let keys = match &c.keys.mode {
        KeyMode::Automatic { dir, rotation } => format!(
            "automatic in {} ({}, every {}, announce {}, retain {})",
            as_written(base, dir),
            rotation.algorithm,
            show(rotation.rotate_every),
            show(rotation.announce),
            show(rotation.retain)
        ),
        KeyMode::Declared { .. } => "declared".into(),
    };
    BTreeMap::from([
        ("issuer", c.issuer.clone().unwrap_or_default()),
        ("server.listen", c.listen.to_string()),
        (
            "server.management_listen",
            c.management_listen
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        (
            "server.tls",
            c.tls
                .as_ref()
                .map(|t| format!("{} {}", as_written(base, &t.cert), as_written(base, &t.key)))
                .unwrap_or_default(),
        ),
        ("keys", keys),
        ("keys.jwks_max_age", show(c.keys.jwks_max_age)),
        (
            "throttle",
            format!(
                "client_failures={} address_failures={} window={}",
                c.throttle.client_failures,
                c.throttle.address_failures,
                show(c.throttle.window)
            ),
        ),
        ("replay.store", c.replay.redacted()),
        (
            "include",
            c.include
                .iter()
                .map(|p| as_written(base, Path::new(p)))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ])
}

/// What changes from `old` (read from the file `old_file`) to `new` (from
/// `new_file`): paths in each are shown relative to its file's folder.
pub(crate) fn diff(old: &Config, old_file: &Path, new: &Config, new_file: &Path) -> Diff {
    let (old_base, new_base) = (super::folder_of(old_file), super::folder_of(new_file));
    let clients = |c: &Config| -> Summary {
        c.registry
            .clients()
            .map(|x| {
                let mut fields = client(x);
                people::client(x, &mut fields);
                (x.id.as_str().to_owned(), fields)
            })
            .collect()
    };
    let scopes = |c: &Config| -> Summary {
        c.registry
            .scopes()
            .iter()
            .map(|s| {
                (
                    s.name.to_string(),
                    BTreeMap::from([("display_name", s.display_name.clone().unwrap_or_default())]),
                )
            })
            .collect()
    };
    let resources = |c: &Config| -> Summary {
        c.registry
            .resources()
            .iter()
            .map(|r| {
                let scopes: Vec<&str> = r.scopes.iter().map(|s| s.as_str()).collect();
                (
                    r.name.clone(),
                    BTreeMap::from([
                        ("scopes", scopes.join(" ")),
                        ("secrets", secrets(&r.secrets)),
                        ("secret hashes", hex::encode(&r.secrets.fingerprint[..6])),
                    ]),
                )
            })
            .collect()
    };
    let issuers = |c: &Config| -> Summary {
        c.registry
            .trusted_issuers()
            .map(|t| {
                (
                    t.name.clone(),
                    BTreeMap::from([
                        ("issuer", t.issuer.clone()),
                        ("keys", keys(&t.keys)),
                        (
                            "audience",
                            t.audience.clone().unwrap_or_else(|| "(our issuer)".into()),
                        ),
                        ("max_token_lifetime", show(t.max_token_lifetime)),
                    ]),
                )
            })
            .collect()
    };
    let signing = |c: &Config, base: &Path| -> Summary {
        match &c.keys.mode {
            KeyMode::Automatic { .. } => Summary::new(),
            KeyMode::Declared { keys, .. } => keys
                .iter()
                .map(|k| {
                    (
                        k.key.kid().to_owned(),
                        BTreeMap::from([
                            match &k.source {
                                super::KeyStorage::File { path, .. } => {
                                    ("file", as_written(base, path))
                                }
                                super::KeyStorage::Pkcs11(p) => (
                                    "pkcs11",
                                    format!("token {:?}, label {:?}", p.token, p.label),
                                ),
                            },
                            ("algorithm", k.key.algorithm().to_string()),
                            ("activate_at", crate::keys::rfc3339(k.activate_at)),
                            (
                                "retire_at",
                                k.retire_at.map(crate::keys::rfc3339).unwrap_or_default(),
                            ),
                        ]),
                    )
                })
                .collect(),
        }
    };
    let users = |c: &Config| -> Summary {
        c.registry
            .users()
            .map(|u| (u.username.to_string(), people::user(u)))
            .collect()
    };
    let (a, b) = (settings(old, old_base), settings(new, new_base));
    let settings = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| FieldChange {
            field: (*k).to_owned(),
            old: a.get(k).cloned().unwrap_or_default(),
            new: v.clone(),
        })
        .collect();
    Diff {
        settings,
        clients: section(&clients(old), &clients(new)),
        scopes: section(&scopes(old), &scopes(new)),
        resources: section(&resources(old), &resources(new)),
        trusted_issuers: section(&issuers(old), &issuers(new)),
        keys: section(&signing(old, old_base), &signing(new, new_base)),
        users: section(&users(old), &users(new)),
    }
}
