//! Shape checks against the published JSON schema, so that `check` reports
//! every misspelt key and wrong type at once (serde stops at the first).
//! The schema is generated from the raw types: one source of truth.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// A shape problem: where, what, and maybe a hint.
pub(super) struct ShapeProblem {
    pub key_path: String,
    pub message: String,
    pub hint: Option<String>,
}

struct Compiled {
    schema: Value,
    validator: jsonschema::Validator,
}

/// Which file a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// identity.toml.
    Main,
    /// A file named by its `include`.
    Included,
}

/// The JSON schema of `kind`, generated from the raw types and shaped for
/// editors (see [`tidy`]).
pub(super) fn schema(kind: Kind) -> Value {
    let (schema, id) = match kind {
        Kind::Main => (
            serde_json::to_value(schemars::schema_for!(super::raw::RawConfig)),
            "urn:tollgate:schema:identity",
        ),
        Kind::Included => (
            serde_json::to_value(schemars::schema_for!(super::raw::RawIncluded)),
            "urn:tollgate:schema:included",
        ),
    };
    let mut schema = schema.expect("the schema is JSON");
    super::tidy::tidy(&mut schema);
    if let Some(o) = schema.as_object_mut() {
        o.insert("$id".into(), Value::String(id.into()));
    }
    schema
}

fn compiled(kind: Kind) -> &'static Compiled {
    static MAIN: OnceLock<Compiled> = OnceLock::new();
    static INCLUDED: OnceLock<Compiled> = OnceLock::new();
    let cell = match kind {
        Kind::Main => &MAIN,
        Kind::Included => &INCLUDED,
    };
    cell.get_or_init(|| {
        let schema = schema(kind);
        let validator = jsonschema::validator_for(&schema).expect("the generated schema compiles");
        Compiled { schema, validator }
    })
}

/// Every place where `document` does not fit the schema of `kind`.
pub(super) fn problems(document: &Value, kind: Kind) -> Vec<ShapeProblem> {
    let c = compiled(kind);
    let mut problems = Vec::new();
    for error in c.validator.iter_errors(document) {
        let segments = segments(error.instance_path().as_str());
        let path = key_path(&segments);
        if is_duration(node_at(&c.schema, &segments)) {
            // Wrong type, a string that is not one, or not above zero:
            // one message naming what may be written.
            let zero = matches!(error.kind(), ValidationErrorKind::Minimum { .. });
            problems.push(ShapeProblem {
                key_path: path,
                message: if zero {
                    "a duration must be longer than zero".into()
                } else {
                    format!("expected a duration, found {}", found(error.instance()))
                },
                hint: Some(super::duration::FORMS.to_owned()),
            });
            continue;
        }
        match error.kind() {
            // An unknown key: refused by `additionalProperties`' schema.
            ValidationErrorKind::Not { .. } if !segments.is_empty() => {
                let (key, parent) = segments.split_last().expect("not empty");
                let known = property_names(&c.schema, parent);
                problems.push(ShapeProblem {
                    message: format!("unknown key `{key}`"),
                    hint: Some(hint_for_unknown(key, &known)),
                    key_path: path,
                });
            }
            ValidationErrorKind::Type { kind } => {
                let wanted = expected(kind);
                let quote = wanted == "a string"
                    && !error.instance().is_object()
                    && !error.instance().is_array();
                problems.push(ShapeProblem {
                    key_path: path,
                    message: format!("expected {wanted}, found {}", found(error.instance())),
                    hint: quote.then(|| {
                        "write the value in quotes, e.g. listen = \"0.0.0.0:5001\"".to_owned()
                    }),
                })
            }
            ValidationErrorKind::Required { property } => problems.push(ShapeProblem {
                key_path: path.clone(),
                message: format!(
                    "`{}` is missing here",
                    property.as_str().unwrap_or_default()
                ),
                hint: None,
            }),
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = property_names(&c.schema, &segments);
                for key in unexpected {
                    problems.push(ShapeProblem {
                        key_path: join(&path, key),
                        message: format!("unknown key `{key}`"),
                        hint: Some(hint_for_unknown(key, &known)),
                    });
                }
            }
            ValidationErrorKind::Enum { options } => problems.push(ShapeProblem {
                key_path: path,
                message: format!("must be one of {}", words(options)),
                hint: None,
            }),
            ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
                problems.push(ShapeProblem {
                    key_path: path,
                    message: reason(&error),
                    hint: None,
                });
            }
            _ => problems.push(ShapeProblem {
                key_path: path,
                message: error.to_string(),
                hint: None,
            }),
        }
    }
    problems
}

/// The types a schema allows, in words.
fn expected(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let word = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "string" => "a string".to_owned(),
        "integer" => "an integer".to_owned(),
        "number" => "a number".to_owned(),
        "boolean" => "true or false".to_owned(),
        "array" => "a list [...]".to_owned(),
        "object" => "a table".to_owned(),
        other => other.to_owned(),
    };
    match kind {
        TypeKind::Single(t) => word(t),
        TypeKind::Multiple(ts) => {
            let words: Vec<String> = ts.iter().map(|t| word(&t)).collect();
            words.join(" or ")
        }
    }
}

/// A value, in words, without echoing text (it may be a credential) or a
/// whole table.
fn found(value: &Value) -> String {
    match value {
        Value::String(_) => "a string".into(),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a table".into(),
        Value::Null => "nothing".into(),
    }
}

/// Optional values are `anyOf: [T, null]` and enums `oneOf: [const...]`;
/// "not valid under any of the schemas" helps nobody, so this digs for
/// the reason T refused the value, or lists the allowed constants.
fn reason(error: &jsonschema::ValidationError<'_>) -> String {
    let context = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => return error.to_string(),
    };
    let consts: Vec<String> = context
        .iter()
        .flatten()
        .filter_map(|e| match e.kind() {
            ValidationErrorKind::Constant { expected_value } => Some(expected_value.to_string()),
            _ => None,
        })
        .collect();
    if !consts.is_empty() {
        return format!("must be one of {}", consts.join(", "));
    }
    context
        .iter()
        .flatten()
        .filter(|e| {
            !matches!(e.kind(), ValidationErrorKind::Type { .. })
                || !e.to_string().ends_with("\"null\"")
        })
        .map(reason)
        .next()
        .unwrap_or_else(|| error.to_string())
}

/// `/clients/0/allowed_scopes` → `["clients", "0", "allowed_scopes"]`.
fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// `["clients", "0", "allowed_scopes"]` → `clients[0].allowed_scopes`.
fn key_path(segments: &[String]) -> String {
    let mut path = String::new();
    for s in segments {
        if s.parse::<usize>().is_ok() {
            path.push_str(&format!("[{s}]"));
        } else {
            path = join(&path, s);
        }
    }
    path
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Follows `$ref` (and the `anyOf: [{$ref}, null]` of optional structs).
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            match root.pointer(r.trim_start_matches('#')) {
                Some(target) => schema = target,
                None => break,
            }
        } else if let Some(first) = schema
            .get("anyOf")
            .and_then(Value::as_array)
            .and_then(|alts| alts.iter().find(|a| a.get("$ref").is_some()))
        {
            schema = first;
        } else {
            break;
        }
    }
    schema
}

/// `"ES256", "EdDSA", "RS256"`: an `enum`'s values.
fn words(options: &Value) -> String {
    let values: Vec<String> = options
        .as_array()
        .map(|a| a.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    values.join(", ")
}

/// The schema of the value `segments` point to (`Null` where the schema
/// has none).
fn node_at<'a>(root: &'a Value, segments: &[String]) -> &'a Value {
    let mut schema = resolve(root, root);
    for s in segments {
        let next = if s.parse::<usize>().is_ok() {
            schema.get("items")
        } else {
            schema.get("properties").and_then(|p| p.get(s))
        };
        match next {
            Some(n) => schema = resolve(root, n),
            None => return &Value::Null,
        }
    }
    schema
}

/// Whether `schema` is a duration's.
fn is_duration(schema: &Value) -> bool {
    schema.get("pattern").and_then(Value::as_str) == Some(super::duration::PATTERN)
}

/// The keys the schema allows at the object `segments` point to.
fn property_names(root: &Value, segments: &[String]) -> Vec<String> {
    node_at(root, segments)
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn hint_for_unknown(key: &str, known: &[String]) -> String {
    let secret = matches!(key, "secret" | "client_secret" | "password" | "value");
    // A provider's client secret is the provider's, not a hash of ours.
    if secret && known.iter().any(|k| k == "client_secret_env") {
        return "the client secret is never written in this file: name an environment variable (client_secret_env) or a file (client_secret_file) that holds it".into();
    }
    if secret {
        return "secrets are stored only as Argon2id hashes: run `tollgate hash-secret` and write `hash = \"$argon2id$...\"`".into();
    }
    let closest = known
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, k)) => format!("did you mean `{k}`?"),
        None if known.is_empty() => "no keys are allowed here".into(),
        None => format!("expected one of: {}", known.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_pointers_become_key_paths() {
        assert_eq!(
            key_path(&segments("/clients/0/allowed_scopes/1")),
            "clients[0].allowed_scopes[1]"
        );
        assert_eq!(key_path(&segments("")), "");
        assert_eq!(key_path(&segments("/a~1b")), "a/b");
    }

    #[test]
    fn every_shape_problem_is_found_at_once_with_hints() {
        let doc = serde_json::json!({
            "isuer": "x",
            "server": { "listen": 5 },
            "clients": [{ "client_id": "c", "secrets": [{ "secret": "s" }] }]
        });
        let found: Vec<_> = problems(&doc, Kind::Main)
            .into_iter()
            .map(|p| (p.key_path, p.message, p.hint.unwrap_or_default()))
            .collect();
        let has = |path: &str, msg: &str, hint: &str| {
            found
                .iter()
                .any(|(p, m, h)| p == path && m.contains(msg) && h.contains(hint))
        };
        assert!(
            has("isuer", "unknown key", "did you mean `issuer`?"),
            "{found:?}"
        );
        assert!(
            has(
                "server.listen",
                "expected a string, found the number 5",
                "quotes"
            ),
            "{found:?}"
        );
        assert!(
            has("clients[0].secrets[0].secret", "unknown key", "hash-secret"),
            "{found:?}"
        );
        assert!(
            has("clients[0].secrets[0]", "hash", ""),
            "missing hash: {found:?}"
        );
    }

    /// What Taplo shows: see tests/editor/run.sh, which runs it.
    #[test]
    fn the_schema_has_no_any_of_or_one_of_and_unknown_keys_list_the_keys() {
        for kind in [Kind::Main, Kind::Included] {
            let text = schema(kind).to_string();
            assert!(
                !text.contains("\"anyOf\"") && !text.contains("\"oneOf\""),
                "{text}"
            );
        }
        let main = schema(Kind::Main);
        let client = &main["$defs"]["RawClient"]["additionalProperties"]["not"]["description"];
        assert!(
            client
                .as_str()
                .unwrap()
                .contains("allowed_grant_types, allowed_groups, allowed_scopes, backchannel_logout_uri, claims"),
            "{client}"
        );
        assert_eq!(
            main["$defs"]["RawAlgorithm"]["enum"],
            serde_json::json!(["ES256", "EdDSA", "RS256"])
        );
        let found = problems(
            &serde_json::json!({ "keys": { "algorithm": "ES257" } }),
            Kind::Main,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key_path, "keys.algorithm");
        assert_eq!(
            found[0].message,
            "must be one of \"ES256\", \"EdDSA\", \"RS256\""
        );
    }
}
