//! The handbook's generated outputs: where they live, how a run's text is
//! compared with them (or written, with `UPDATE_DOCS`), and the shapes the
//! pages print (values that change per run shortened to `…`).

use std::path::{Path, PathBuf};

use serde_json::Value;

pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `text` with docs/src/generated/`name`, or writes it there
/// when `UPDATE_DOCS` is set.
pub(crate) fn generated(name: &str, text: &str) {
    let path: PathBuf = root().join("docs/src/generated").join(name);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let shown = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shown == text,
        "docs/src/generated/{name} is not what the server says now; \
         UPDATE_DOCS=1 cargo test --test it -- handbook rewrites it. The run said:\n{text}"
    );
}

/// The delegation page's script (tests/interop/token_exchange.sh) run
/// against `issuer` with the page's arguments.
pub(crate) async fn exchange_script(issuer: String) -> std::process::Output {
    let script = root().join("tests/interop/token_exchange.sh");
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg(script)
            .args([
                issuer.as_str(),
                "frontend",
                "secret",
                "orders",
                "secret",
                "orders.read",
                "https://inventory.example.com",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// A JSON value on one line, `, ` between items (as the pages print
/// arrays).
fn one_line(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(one_line).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(members) => {
            let members: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), one_line(v)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// A JSON object with one member a line, in key order.
pub(crate) fn one_member_a_line(object: &Value) -> String {
    let mut members: Vec<(&String, &Value)> = object.as_object().unwrap().iter().collect();
    members.sort_by_key(|(k, _)| *k);
    let lines: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("  {}: {}", Value::from(k.as_str()), one_line(v)))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// `"name":"value"` in a line of JSON with the value shortened to its
/// first `keep` characters and `…`.
pub(crate) fn shorten(line: &str, name: &str, keep: usize) -> String {
    let start = format!("\"{name}\":\"");
    let Some(at) = line.find(&start) else {
        return line.to_owned();
    };
    let from = at + start.len();
    let to = from + line[from..].find('"').unwrap();
    format!(
        "{}{}…{}",
        &line[..from],
        &line[from..(from + keep).min(to)],
        &line[to..]
    )
}

/// The headers a page shows of a response, in the page's order, as curl
/// -i prints them: the status line, the headers named, a blank line and
/// the body.
pub(crate) async fn as_curl_shows(response: reqwest::Response, headers: &[&str]) -> String {
    let mut text = format!("HTTP/1.1 {}\n", response.status());
    for name in headers {
        let value = response.headers()[*name].to_str().unwrap();
        text.push_str(&format!("{name}: {value}\n"));
    }
    format!("{text}\n{}\n", response.text().await.unwrap())
}

/// What the sample client prints (the token response, then the claims the
/// API saw), as the pages show it: the token cut short, times and `jti`
/// as `…`, one claim a line.
pub(crate) fn sample_client_shows(stdout: &str) -> String {
    let printed: Vec<Value> = serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    let [response, claims] = printed.as_slice() else {
        panic!("{stdout}")
    };
    let mut response = response.clone();
    let token = response["access_token"].as_str().unwrap();
    response["access_token"] = format!("{}…", &token[..20]).into();
    let mut lines = Vec::new();
    for claim in claims.as_array().unwrap() {
        let kind = claim["type"].as_str().unwrap();
        let value = match kind {
            "exp" | "iat" | "nbf" | "jti" => "…".into(),
            _ => claim["value"].clone(),
        };
        lines.push(format!("  {{ \"type\": \"{kind}\", \"value\": {value} }}"));
    }
    format!(
        "{}\n[\n{}\n]\n",
        serde_json::to_string_pretty(&response).unwrap(),
        lines.join(",\n")
    )
}
