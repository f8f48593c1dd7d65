//! Where settings come from: the file, then (for containers) environment
//! variables `TOLLGATE_<KEY>`, with `__` between nested keys, e.g.
//! `TOLLGATE_ISSUER`, `TOLLGATE_SERVER__LISTEN`, `TOLLGATE_KEYS__DIR`.
//! `TOLLGATE_LOG` (the log filter), `TOLLGATE_LOG_FORMAT` and
//! `TOLLGATE_CONFIG` (the file itself, the environment form of `--config`)
//! are not settings of the file.

use std::collections::BTreeMap;

use figment::Figment;
use figment::providers::{Env, Serialized};
use serde_json::Value;

/// Whether environment overrides apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrides {
    /// The file alone (tests, tools).
    None,
    /// The file, then the process environment (`serve`, `check`, reload).
    Environment,
}

/// The settings as one JSON document, and which key paths the
/// environment set (key path → variable name).
pub(super) struct Document {
    pub value: Value,
    pub from_env: BTreeMap<String, String>,
}

fn env() -> Env {
    Env::prefixed("TOLLGATE_")
        .split("__")
        .ignore(&["LOG", "LOG_FORMAT", "CONFIG"])
}

/// Whether any `TOLLGATE_` variable would override a setting.
pub(super) fn environment_sets_something() -> bool {
    env().iter().next().is_some()
}

/// The name of the variable that sets `key_path`.
pub(super) fn variable_for(key_path: &str) -> String {
    format!("TOLLGATE_{}", key_path.replace('.', "__").to_uppercase())
}

/// Parses the TOML text into a JSON document (TOML date-times become RFC
/// 3339 strings) and applies the overrides.
pub(super) fn document(text: &str, overrides: Overrides) -> Result<Document, DocumentError> {
    let table: toml::Table = toml::from_str(text).map_err(DocumentError::Toml)?;
    let mut value = to_json(toml::Value::Table(table));
    let mut from_env = BTreeMap::new();
    if overrides == Overrides::Environment {
        let keys: Vec<String> = env().iter().map(|(k, _)| k.as_str().to_owned()).collect();
        if !keys.is_empty() {
            value = Figment::from(Serialized::defaults(value))
                .merge(env())
                .extract()
                .map_err(|e| DocumentError::Env(e.to_string()))?;
            for key in keys {
                from_env.insert(key.clone(), variable_for(&key));
            }
        }
    }
    Ok(Document { value, from_env })
}

#[derive(Debug)]
pub(super) enum DocumentError {
    Toml(toml::de::Error),
    Env(String),
}

fn to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_becomes_json_with_datetimes_as_strings() {
        let doc = document(
            "a = 1\n[t]\nd = 2027-01-01T00:00:00Z\nl = [true]\n",
            Overrides::None,
        )
        .unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "t": {"d": "2027-01-01T00:00:00Z", "l": [true]}})
        );
    }

    #[test]
    fn variables_are_named_after_key_paths() {
        assert_eq!(variable_for("server.listen"), "TOLLGATE_SERVER__LISTEN");
        assert_eq!(variable_for("issuer"), "TOLLGATE_ISSUER");
    }
}
