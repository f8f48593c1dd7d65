//! Config files: the quickstart, a management listener, secret hashes
//! computed once per test binary.

use std::sync::OnceLock;

/// Hashes `secret` once per test binary (Argon2 is slow on purpose).
pub(crate) fn hash(secret: &str) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(h) = cache.lock().unwrap().get(secret) {
        return h.clone();
    }
    let h = tollgate_core::hash_secret(secret).unwrap();
    cache.lock().unwrap().insert(secret.to_owned(), h.clone());
    h
}

/// Whether `password` verifies against the Argon2id PHC string `phc`.
pub(crate) fn verifies(phc: &str, password: &str) -> bool {
    use argon2::{PasswordHash, PasswordVerifier};
    let hash = PasswordHash::new(phc).unwrap();
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

/// The quickstart: scope api1, client "client" / "secret".
pub(crate) fn quickstart_toml() -> String {
    format!(
        r#"
[[api_scopes]]
name = "api1"

[[clients]]
client_id = "client"
allowed_scopes = ["api1"]

[[clients.secrets]]
hash = "{}"
"#,
        hash("secret")
    )
}

/// `toml` with a management listener on an ephemeral port (full metrics
/// and health there).
pub(crate) fn managed(toml: &str) -> String {
    let line = "management_listen = \"127.0.0.1:0\"\n";
    match toml.find("[server]\n") {
        Some(i) => {
            let at = i + "[server]\n".len();
            format!("{}{line}{}", &toml[..at], &toml[at..])
        }
        None => format!("[server]\n{line}{toml}"),
    }
}

/// The `config.sha256` that /healthz reports once a file of `bytes` (with
/// no included files) is in force.
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    hex::encode(tollgate_jose::digest::sha256(bytes))
}

/// The problem `check` reports at `key_path` for `toml` as identity.toml,
/// which it must refuse; the problem has a line.
pub(crate) fn refused_at(toml: &str, key_path: &str) -> tollgate::Problem {
    let report = tollgate::check(
        toml,
        std::path::Path::new("identity.toml"),
        tollgate::Overrides::None,
        super::now(),
    );
    assert!(report.config.is_none(), "accepted: {toml}");
    let problem = report.errors.iter().find(|p| p.key_path == key_path);
    let problem =
        problem.unwrap_or_else(|| panic!("no problem at {key_path}: {:?}", report.errors));
    assert!(problem.line.is_some(), "{key_path} has a line");
    problem.clone()
}
