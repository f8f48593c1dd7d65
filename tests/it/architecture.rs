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
    // clippy.toml forbids the other ways; these are the readings allowed
    // past it, each saying why.
    let allowed = [
        "crates/tollgate-jose/src/clock.rs",
        "src/observe/text_log.rs",
        "src/config/stamp.rs",
    ];
    for (file, code) in workspace() {
        if file != "crates/tollgate-jose/src/clock.rs" {
            assert!(!mentions(&code, "now_utc()"), "{file} reads the wall clock");
        }
        if !allowed.contains(&file.as_str()) {
            assert!(
                !mentions(&code, "clippy::disallowed_methods"),
                "{file} reads a clock clippy.toml forbids"
            );
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

/// A source file's module path in its crate: `auth::certificate` for
/// `auth/certificate.rs`, `auth` for `auth/mod.rs`, `` for `lib.rs`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The module paths a file's code names (`crate::a::b`, `super::a`,
/// `super::super::a`, braces included), resolved against `modules` to the
/// deepest module they reach.
fn named_modules(
    module: &[String],
    code: &str,
    modules: &BTreeSet<Vec<String>>,
) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let is_dir_module = |m: &[String]| {
        modules
            .iter()
            .any(|o| o.len() > m.len() && o.starts_with(m))
    };
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        // Only the start of a path (not `tollgate_core::crate::`).
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut base: Vec<String> = Vec::new();
        let mut rest = &code[at..];
        if let Some(r) = rest.strip_prefix("crate::") {
            rest = r;
        } else {
            base = module.to_vec();
            // A file module's `super` is its folder's module; `mod.rs`
            // speaks for the folder, so its `super` is one up.
            let _ = is_dir_module;
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
        }
        // The segments that follow: `a::b::{c, d::e}` gives `a::b::c` and
        // `a::b::d::e` (the first level of braces).
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || "_:{}, \n".contains(*c))
            .collect();
        let (head, braces) = match path.split_once('{') {
            Some((head, inner)) => (head, inner.split('}').next().unwrap_or("")),
            None => (path.as_str(), ""),
        };
        let head: Vec<String> = head
            .split("::")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let mut tails: Vec<Vec<String>> = braces
            .split(',')
            .map(|t| {
                t.split("::")
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .collect();
        tails.push(Vec::new());
        for tail in tails {
            let mut target = base.clone();
            let mut deepest = base.clone();
            for segment in head.iter().chain(tail.iter()) {
                target.push(segment.clone());
                if modules.contains(&target) {
                    deepest = target.clone();
                } else {
                    break;
                }
            }
            out.insert(deepest);
        }
    }
    out
}

/// The module graph of one crate's files (path under its `src/` → code):
/// an edge for each module another names, except between a module and
/// its own ancestors or descendants (a folder's `mod.rs` and its files
/// name each other by nature).
fn module_graph(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<Vec<String>> = files.keys().map(|f| module_of(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in files {
        let from = module_of(file);
        for to in named_modules(&from, code, &modules) {
            if to.starts_with(&from) || from.starts_with(&to) {
                continue;
            }
            graph
                .entry(from.join("::"))
                .or_default()
                .insert(to.join("::"));
        }
    }
    graph
}

/// Each crate's source folder, the server's first.
fn crate_sources() -> Vec<String> {
    let mut dirs = vec!["src".to_owned()];
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut names: Vec<String> = std::fs::read_dir(crates)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    dirs.extend(names.into_iter().map(|n| format!("crates/{n}/src")));
    dirs
}

#[test]
fn the_modules_of_every_crate_form_no_cycle() {
    for dir in crate_sources() {
        let graph = module_graph(&code_under(&dir));
        assert!(!graph.is_empty(), "{dir}: no module names another");
        assert_eq!(cycle(&graph), None, "{dir}: {graph:#?}");
    }
}

/// The check above can fail: a cycle planted in a copy of the core (one
/// file naming a module that names it back) is found, through `super::`,
/// `crate::` and braces alike.
#[test]
fn a_planted_cycle_in_a_crate_is_found() {
    let core = code_under("crates/tollgate-core/src");
    assert_eq!(cycle(&module_graph(&core)), None);
    let plants = [
        ("scope.rs", "use super::registry::Registry;\n"),
        ("scope.rs", "use crate::registry::ApiResource;\n"),
        ("scope.rs", "use super::{error::ErrorCode, registry};\n"),
        ("auth/secret.rs", "use super::super::registry::Registry;\n"),
    ];
    for (file, line) in plants {
        let mut planted = core.clone();
        planted.get_mut(file).unwrap().insert_str(0, line);
        // registry names scope (its scope sets); scope naming registry
        // closes a circle.
        let registry = planted.get_mut("registry.rs").unwrap();
        if !registry.contains("super::scope") {
            registry.insert_str(0, "use super::scope::ScopeSet;\n");
        }
        if file == "auth/secret.rs" {
            planted
                .get_mut("registry.rs")
                .unwrap()
                .insert_str(0, "use super::auth::secret::Holder;\n");
        }
        assert!(cycle(&module_graph(&planted)).is_some(), "{file}: {line}");
    }
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
