//! The generated JSON schema, shaped for editors (Taplo, Even Better
//! TOML): one message per mistake where the schema can say so.

use serde_json::Value;

/// What an editor shows for a key the table does not have: the keys the
/// table does have, so that a misspelt one is found at a glance.
fn unknown_key(known: Option<&serde_json::Map<String, Value>>) -> String {
    let mut keys: Vec<&str> = known
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    match keys.as_slice() {
        [] => "unknown key: this table has no settings".to_owned(),
        keys => format!(
            "unknown key (misspelt?); the keys of this table are: {}",
            keys.join(", ")
        ),
    }
}

/// Shapes the generated schema so that one mistake is one message in an
/// editor. Taplo repeats an error of a table for every range of it (a
/// misspelt key of `[[clients]]` under `additionalProperties: false` or
/// `propertyNames` is one message per line of the table), so an unknown
/// key fails on its value instead: `additionalProperties` is a schema that
/// refuses, whose description lists the table's keys. TOML has no null,
/// so optional values are just their type. Enums are one `enum`, not
/// `oneOf` constants: an editor then lists the values rather than saying
/// "not valid under any of the schemas listed in the 'oneOf' keyword".
pub(super) fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                let message = unknown_key(map.get("properties").and_then(Value::as_object));
                map.insert(
                    "additionalProperties".into(),
                    serde_json::json!({ "not": { "description": message } }),
                );
            }
            if let Some(Value::Array(options)) = map.get("oneOf")
                && !options.is_empty()
                && options
                    .iter()
                    .all(|o| o.get("const").is_some_and(Value::is_string))
            {
                let values: Vec<Value> = options.iter().map(|o| o["const"].clone()).collect();
                let meanings: Vec<String> = options
                    .iter()
                    .map(|o| match o.get("description").and_then(Value::as_str) {
                        Some(d) => format!(
                            "`{}`: {}",
                            o["const"].as_str().unwrap_or_default(),
                            d.trim_end_matches('.')
                        ),
                        None => format!("`{}`", o["const"].as_str().unwrap_or_default()),
                    })
                    .collect();
                map.remove("oneOf");
                let description = match map.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{} {}.", d, meanings.join("; ")),
                    None => format!("{}.", meanings.join("; ")),
                };
                map.insert("description".into(), Value::String(description));
                map.insert("type".into(), Value::String("string".into()));
                map.insert("enum".into(), Value::Array(values));
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = map.get("anyOf") {
                let kept: Vec<Value> = options
                    .iter()
                    .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if kept.len() == 1 && kept.len() < options.len() {
                    map.remove("anyOf");
                    if let Value::Object(only) = &kept[0] {
                        for (k, v) in only {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                } else if kept.len() < options.len() {
                    map.insert("anyOf".into(), Value::Array(kept));
                }
            }
            for v in map.values_mut() {
                tidy(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}
