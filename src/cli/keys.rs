//! `tollgate keys generate`: a new private signing key, never overwriting
//! (or made inside a PKCS#11 token), and the `[[keys.signing]]` entry to
//! paste.

use std::path::Path;
use std::process::ExitCode;

use time::format_description::well_known::Rfc3339;

use crate::keys::{Algorithm, PinSource, Pkcs11Key, SigningKey, store};

/// `--activate-at`: `now`, a date-time, or (absent) a day from now.
fn activation(activate_at: Option<&str>) -> Result<time::OffsetDateTime, ExitCode> {
    let now = tollgate_jose::clock::system()
        .now()
        .replace_nanosecond(0)
        .expect("0 is a nanosecond");
    match activate_at {
        None => Ok(now + time::Duration::days(1)),
        Some("now") => Ok(now),
        Some(text) => time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            eprintln!(
                "error: --activate-at {text:?} is not `now` or an RFC 3339 date-time like 2027-01-01T00:00:00Z"
            );
            ExitCode::from(2)
        }),
    }
}

pub fn generate_key(out: &Path, algorithm: Algorithm, activate_at: Option<&str>) -> ExitCode {
    let activate_at = match activation(activate_at) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (key, pem) = match SigningKey::generate(algorithm) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = store::ensure_private_dir(parent)
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = store::write_new(out, pem.as_bytes()) {
        let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it exists already; keys are never overwritten".to_owned()
        } else {
            e.to_string()
        };
        eprintln!("error: {}: {why}", out.display());
        return ExitCode::FAILURE;
    }
    let stamp = activate_at.format(&Rfc3339).unwrap_or_default();
    println!(
        "# kid {} ({algorithm}), written to {} (mode 0600)",
        key.kid(),
        out.display()
    );
    println!("# Published from the moment it is listed; signs from activate_at.");
    println!("[[keys.signing]]");
    println!("file = {:?}", out.display().to_string());
    println!("activate_at = {stamp}");
    ExitCode::SUCCESS
}

/// `tollgate keys generate --pkcs11`: a key pair made inside the token
/// (nothing written here) and its `[[keys.signing]]` entry, last on stdout.
pub fn generate_pkcs11_key(
    spec: &Pkcs11Key,
    algorithm: Algorithm,
    activate_at: Option<&str>,
) -> ExitCode {
    let activate_at = match activation(activate_at) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let key = match crate::keys::pkcs11::generate(spec, algorithm) {
        Ok(key) => key,
        Err(e) => {
            eprintln!(
                "error: making the key {:?} in token {:?}: {e}",
                spec.label, spec.token
            );
            return ExitCode::FAILURE;
        }
    };
    let quoted = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let pin = match &spec.pin {
        // Absolute: the entry is pasted into a file in another folder.
        PinSource::File(file) => format!(
            "pin_file = {}",
            quoted(
                &std::path::absolute(file)
                    .unwrap_or_else(|_| file.clone())
                    .display()
                    .to_string()
            )
        ),
        PinSource::Env(var) => format!("pin_env = {}", quoted(var)),
    };
    println!(
        "# kid {} ({algorithm}), made in token {:?} as {:?}: the private key is sensitive \
         and not extractable; no file was written",
        key.kid(),
        spec.token,
        spec.label
    );
    println!("# Published from the moment it is listed; signs from activate_at.");
    println!("[[keys.signing]]");
    println!(
        "pkcs11 = {{ module = {}, token = {}, label = {}, {pin} }}",
        quoted(&module_path(&spec.module).display().to_string()),
        quoted(&spec.token),
        quoted(&spec.label)
    );
    println!(
        "activate_at = {}",
        activate_at.format(&Rfc3339).unwrap_or_default()
    );
    ExitCode::SUCCESS
}

/// `tollgate keys client`: a client's own key pair for `private_key_jwt`.
/// Writes the private key (PKCS#8 PEM, 0600, never overwriting) for the
/// client to keep, and prints the `jwks = …` line for its `[[clients]]`
/// entry.
pub fn generate_client_key(out: &Path, algorithm: Algorithm) -> ExitCode {
    let (key, pem) = match SigningKey::generate(algorithm) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = store::write_new(out, pem.as_bytes()) {
        let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it exists already; keys are never overwritten".to_owned()
        } else {
            e.to_string()
        };
        eprintln!("error: {}: {why}", out.display());
        return ExitCode::FAILURE;
    }
    let jwk = serde_json::to_value(key.jwk()).unwrap_or_default();
    let members: Vec<String> = jwk
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    println!(
        "# private key for private_key_jwt written to {} (mode 0600): it stays with the client",
        out.display()
    );
    println!("# In the client's [[clients]] entry:");
    println!("jwks = {{ keys = [ {{ {} }} ] }}", members.join(", "));
    ExitCode::SUCCESS
}

/// The module as the printed entry must name it: a bare file name stays
/// one (the loader's search path finds it), any other relative path is
/// made absolute, since the configuration reads it against its own folder.
fn module_path(module: &std::path::Path) -> std::path::PathBuf {
    if module.is_relative() && module.components().count() > 1 {
        std::path::absolute(module).unwrap_or_else(|_| module.to_owned())
    } else {
        module.to_owned()
    }
}
