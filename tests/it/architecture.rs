//! The architecture invariants of ARCHITECTURE.md: what each crate may
//! depend on (read from Cargo's own resolution, not from the source),
//! what imports poem inside the server, where the wall clock is read,
//! that modules form no cycle, and that files stay small.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file under `dir` (relative to the repository), by its
/// path under `dir`, with its code before any `#[cfg(test)]` (tests may
/// use what the code may not).
fn code_under(dir: &str) -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    sources(&src, &mut files);
    files
        .into_iter()
        .filter(|p| !p.ends_with("tests.rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap().to_owned();
            let name = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (name, code)
        })
        .collect()
}

/// The server's source files, by their path under `src/`.
fn library() -> BTreeMap<String, String> {
    code_under("src")
}

/// Every crate's source files, by their path in the repository.
fn workspace() -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> = code_under("src")
        .into_iter()
        .map(|(f, c)| (format!("src/{f}"), c))
        .collect();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("crates")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        all.extend(
            code_under(&format!("crates/{name}/src"))
                .into_iter()
                .map(|(f, c)| (format!("crates/{name}/src/{f}"), c)),
        );
    }
    all
}

/// The top-level module a file belongs to (`oauth` for `oauth/auth/mod.rs`).
fn top(file: &str) -> &str {
    file.split('/').next().unwrap().trim_end_matches(".rs")
}

fn mentions(code: &str, name: &str) -> bool {
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .any(|l| l.contains(name))
}

/// Whether `code` names the module `path` itself: `super::raw` is not
/// named by `super::raw_keys`.
fn names_module(code: &str, path: &str) -> bool {
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .any(|l| {
            l.match_indices(path).any(|(at, _)| {
                !l[at + path.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            })
        })
}

#[test]
fn only_the_http_modules_import_poem() {
    let http = ["http", "server"];
    for (file, code) in library() {
        if !http.contains(&top(&file)) {
            assert!(
                !mentions(&code, "poem::") && !mentions(&code, "poem_openapi"),
                "{file} imports poem"
            );
        }
    }
}

/// The packages in the normal dependency tree of `package` (itself
/// included), as Cargo resolves it for that package alone.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Crates that belong to the server alone: its web framework, its config,
/// its stores and its runtime.
const SERVER_ONLY: [&str; 13] = [
    "poem",
    "poem-openapi",
    "redis",
    "notify",
    "mimalloc",
    "figment",
    "toml",
    "toml_edit",
    "jsonschema",
    "schemars",
    "clap",
    "prometheus-client",
    "tracing-subscriber",
];

#[test]
fn the_protocol_core_depends_on_neither_a_web_framework_nor_the_config_nor_io() {
    for package in ["tollgate-core", "tollgate-jose"] {
        let tree = normal_dependencies(package);
        assert!(tree.contains(package), "{tree:?}");
        for forbidden in SERVER_ONLY
            .iter()
            .chain(&["tollgate", "tokio", "hyper", "reqwest", "tracing"])
        {
            assert!(
                !tree.contains(*forbidden),
                "{package} depends on {forbidden}"
            );
        }
    }
}

#[test]
fn the_validator_takes_none_of_the_servers_dependencies() {
    let tree = normal_dependencies("tollgate-resource");
    assert!(tree.contains("tollgate-jose"), "{tree:?}");
    for forbidden in SERVER_ONLY
        .iter()
        .chain(&["tollgate", "tollgate-core", "argon2", "governor"])
        // The MCP samples' crates are the samples' alone.
        .chain(&["rmcp", "axum"])
    {
        assert!(
            !tree.contains(*forbidden),
            "tollgate-resource depends on {forbidden}"
        );
    }
}

/// rmcp (and axum under it) serve the MCP samples in examples/: the
/// server itself never takes them.
#[test]
fn the_mcp_sdk_is_only_a_dependency_of_the_samples() {
    let tree = normal_dependencies("tollgate");
    assert!(tree.contains("poem"), "{tree:?}");
    for forbidden in ["rmcp", "axum"] {
        assert!(!tree.contains(forbidden), "tollgate depends on {forbidden}");
    }
}

#[test]
fn the_wall_clock_is_read_in_one_place() {
    for (file, code) in workspace() {
        if file != "crates/tollgate-jose/src/clock.rs" {
            assert!(!mentions(&code, "now_utc()"), "{file} reads the wall clock");
        }
    }
}

/// The graph's cycle, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            return Some(path[i..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_form_no_cycle() {
    let files = library();
    let tops: BTreeSet<String> = files.keys().map(|f| top(f).to_owned()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in &files {
        let from = top(file).to_owned();
        for to in &tops {
            if *to != from && to != "lib" && mentions(code, &format!("crate::{to}")) {
                graph.entry(from.clone()).or_default().insert(to.clone());
            }
        }
    }
    assert_eq!(cycle(&graph), None, "{graph:#?}");
}

#[test]
fn the_files_of_a_module_form_no_cycle() {
    let files = library();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in &files {
        let Some((folder, name)) = file.rsplit_once('/') else {
            continue;
        };
        let name = name.trim_end_matches(".rs");
        let (folder, name) = match name {
            // A folder module's own file speaks for its parent's folder.
            "mod" => match folder.rsplit_once('/') {
                Some((parent, own)) => (parent.to_owned(), own.to_owned()),
                None => continue,
            },
            n => (folder.to_owned(), n.to_owned()),
        };
        let siblings: BTreeSet<String> = files
            .keys()
            .filter_map(|f| {
                let rest = f.strip_prefix(&format!("{folder}/"))?;
                let sibling = rest.split('/').next()?.trim_end_matches(".rs");
                (sibling != "mod" && sibling != name).then(|| sibling.to_owned())
            })
            .collect();
        for sibling in siblings {
            if names_module(code, &format!("super::{sibling}")) {
                graph
                    .entry(format!("{folder}/{name}"))
                    .or_default()
                    .insert(format!("{folder}/{sibling}"));
            }
        }
    }
    assert_eq!(cycle(&graph), None, "{graph:#?}");
}

#[test]
fn every_file_has_one_job_of_at_most_about_400_lines_of_logic() {
    for (file, code) in workspace() {
        let lines = code.lines().count();
        assert!(lines <= 400, "{file}: {lines} lines before its tests");
        assert!(
            code.trim_start().starts_with("//!"),
            "{file} does not open with a //! line saying what it owns"
        );
    }
}
