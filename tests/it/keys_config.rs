//! The `[keys]` rules of identity.toml, with the clock passed in: what is an
//! error (tokens could not be issued), what is a warning (some API would
//! fail a validation), each at its line.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::quickstart_toml;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

struct Checked {
    errors: Vec<(String, Option<usize>, String)>,
    warnings: Vec<(String, Option<usize>, String)>,
}

/// Checks `keys_toml` + the quickstart in a folder holding `key_files`
/// (ES256 keys, mode 0600) at `NOW`.
fn check(keys_toml: &str, key_files: &[&str]) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    for name in key_files {
        let (_, pem) = tollgate::SigningKey::generate(tollgate::Algorithm::ES256).unwrap();
        tollgate::write_new(&dir.path().join(name), pem.as_bytes()).unwrap();
    }
    check_in(dir.path(), keys_toml)
}

/// Checks `keys_toml` + the quickstart as identity.toml in `dir` at `NOW`.
fn check_in(dir: &std::path::Path, keys_toml: &str) -> Checked {
    let text = format!(
        "issuer = \"https://id.example.com\"\n{keys_toml}{}",
        quickstart_toml()
    );
    let report = tollgate::check(
        &text,
        &dir.join("identity.toml"),
        tollgate::Overrides::None,
        NOW,
    );
    let list = |ps: &[tollgate::Problem]| {
        ps.iter()
            .map(|p| (p.key_path.clone(), p.line, p.message.clone()))
            .collect()
    };
    assert_eq!(report.config.is_some(), report.errors.is_empty());
    Checked {
        errors: list(&report.errors),
        warnings: list(&report.warnings),
    }
}

fn has(list: &[(String, Option<usize>, String)], path: &str, line: usize, text: &str) -> bool {
    list.iter()
        .any(|(p, l, m)| p == path && *l == Some(line) && m.contains(text))
}

fn key(file: &str, activate_at: &str, retire_at: Option<&str>) -> String {
    let mut s = format!("[[keys.signing]]\nfile = \"{file}\"\nactivate_at = {activate_at}\n");
    if let Some(r) = retire_at {
        s += &format!("retire_at = {r}\n");
    }
    s
}

#[test]
fn a_good_declared_schedule_has_no_problems() {
    let toml = key(
        "a.pem",
        "2026-08-01T00:00:00Z",
        Some("2026-12-15T00:00:00Z"),
    ) + &key("b.pem", "2026-12-01T00:00:00Z", None);
    let c = check(&toml, &["a.pem", "b.pem"]);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn a_missing_or_broken_key_file_is_an_error_at_its_line() {
    let dir_only = key("missing.pem", "2026-08-01T00:00:00Z", None);
    let c = check(&dir_only, &[]);
    assert!(
        has(&c.errors, "keys.signing[0].file", 3, "cannot read the key"),
        "{:?}",
        c.errors
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.pem"),
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let c = check_in(dir.path(), &key("bad.pem", "2026-08-01T00:00:00Z", None));
    let message = &c.errors[0].2;
    assert!(message.contains("openssl pkcs8 -topk8"), "{message}");
}

#[test]
fn no_key_signing_now_is_an_error_and_a_future_gap_a_warning() {
    let c = check(&key("a.pem", "2026-12-01T00:00:00Z", None), &["a.pem"]);
    assert!(
        has(&c.errors, "keys.signing", 2, "no declared key signs now"),
        "{:?}",
        c.errors
    );

    let c = check(
        &key(
            "a.pem",
            "2026-01-01T00:00:00Z",
            Some("2026-11-01T00:00:00Z"),
        ),
        &["a.pem"],
    );
    assert!(
        has(&c.errors, "keys.signing", 2, "every listed key is retired"),
        "{:?}",
        c.errors
    );

    let c = check(
        &key(
            "a.pem",
            "2026-01-01T00:00:00Z",
            Some("2027-01-01T00:00:00Z"),
        ),
        &["a.pem"],
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert!(
        has(
            &c.warnings,
            "keys.signing[0].retire_at",
            5,
            "no key will sign from 2027-01-01T00:00:00Z"
        ),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_key_announced_for_less_than_the_jwks_cache_time_is_a_warning() {
    let toml =
        key("a.pem", "2026-01-01T00:00:00Z", None) + &key("b.pem", "2026-11-25T12:30:00Z", None);
    let c = check(&toml, &["a.pem", "b.pem"]);
    assert!(
        has(
            &c.warnings,
            "keys.signing[1].activate_at",
            7,
            "sooner than the JWKS cache time"
        ),
        "{:?}",
        c.warnings
    );
    // With a shorter cache time it is fine.
    let c = check(
        &format!("[keys]\njwks_max_age = \"10m\"\n{toml}"),
        &["a.pem", "b.pem"],
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn a_key_retired_before_its_last_tokens_expire_is_a_warning() {
    // b takes over at 13:00; a leaves the JWKS 10 minutes later, but
    // tokens live an hour.
    let toml = key(
        "a.pem",
        "2026-01-01T00:00:00Z",
        Some("2026-11-25T13:10:00Z"),
    ) + &key("b.pem", "2026-11-25T13:00:00Z", None);
    let c = check(
        &format!("[keys]\njwks_max_age = \"10m\"\n{toml}"),
        &["a.pem", "b.pem"],
    );
    assert!(
        has(
            &c.warnings,
            "keys.signing[0].retire_at",
            7,
            "its last tokens would stop validating"
        ),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_key_file_readable_by_others_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (_, pem) = tollgate::SigningKey::generate(tollgate::Algorithm::EdDSA).unwrap();
    let file = dir.path().join("a.pem");
    std::fs::write(&file, pem).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let c = check_in(dir.path(), &key("a.pem", "2026-01-01T00:00:00Z", None));
    assert!(
        has(
            &c.warnings,
            "keys.signing[0].file",
            3,
            "readable by other users"
        ),
        "{:?}",
        c.warnings
    );
}

#[test]
fn automatic_settings_with_declared_keys_and_impossible_rotations_are_errors() {
    let toml = format!(
        "[keys]\nrotate_every = \"30d\"\n{}",
        key("a.pem", "2026-01-01T00:00:00Z", None)
    );
    let c = check(&toml, &["a.pem"]);
    assert!(
        has(
            &c.errors,
            "keys.rotate_every",
            3,
            "applies to automatic keys only"
        ),
        "{:?}",
        c.errors
    );

    let c = check("[keys]\nrotate_every = \"7d\"\nannounce = \"14d\"\n", &[]);
    assert!(
        has(
            &c.errors,
            "keys.announce",
            4,
            "must be shorter than rotate_every"
        ),
        "{:?}",
        c.errors
    );

    let c = check("[keys]\nalgorithm = \"HS256\"\n", &[]);
    assert!(
        c.errors.iter().any(|(p, _, _)| p == "keys.algorithm"),
        "{:?}",
        c.errors
    );
}

#[test]
fn automatic_rotations_that_outrun_caches_or_tokens_are_warnings() {
    let c = check(
        "[keys]\nrotate_every = \"1d\"\nannounce = \"30m\"\nretain = \"30m\"\n",
        &[],
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert!(
        has(
            &c.warnings,
            "keys.announce",
            4,
            "less than the JWKS cache time"
        ),
        "{:?}",
        c.warnings
    );
    assert!(
        has(
            &c.warnings,
            "keys.retain",
            5,
            "less than the longest token lifetime"
        ),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_declared_key_is_a_file_or_a_token_key_and_a_token_key_names_where_its_pin_is() {
    let both = "[[keys.signing]]\nfile = \"a.pem\"\npkcs11 = { module = \"m.so\", token = \"t\", label = \"l\", pin_env = \"P\" }\nactivate_at = 2026-08-01T00:00:00Z\n";
    let c = check(both, &["a.pem"]);
    assert!(
        has(
            &c.errors,
            "keys.signing[0]",
            2,
            "exactly one of file and pkcs11"
        ),
        "{:?}",
        c.errors
    );
    let neither = "[[keys.signing]]\nactivate_at = 2026-08-01T00:00:00Z\n";
    let c = check(neither, &[]);
    assert!(
        has(
            &c.errors,
            "keys.signing[0]",
            2,
            "exactly one of file and pkcs11"
        ),
        "{:?}",
        c.errors
    );
    // Both PIN sources (or none): refused before any module is loaded.
    let two_pins = "[[keys.signing]]\npkcs11 = { module = \"m.so\", token = \"t\", label = \"l\", pin_env = \"P\", pin_file = \"p\" }\nactivate_at = 2026-08-01T00:00:00Z\n";
    let c = check(two_pins, &[]);
    assert!(
        has(
            &c.errors,
            "keys.signing[0].pkcs11",
            3,
            "exactly one of pin_file and pin_env"
        ),
        "{:?}",
        c.errors
    );
    // A module that is not there: the path in the message, at its line.
    let absent = "[[keys.signing]]\npkcs11 = { module = \"lib/absent-pkcs11.so\", token = \"t\", label = \"l\", pin_env = \"P\" }\nactivate_at = 2026-08-01T00:00:00Z\n";
    let c = check(absent, &[]);
    assert!(
        has(
            &c.errors,
            "keys.signing[0].pkcs11",
            3,
            "cannot load the PKCS#11 module"
        ) && c.errors[0].2.contains("absent-pkcs11.so"),
        "{:?}",
        c.errors
    );
}
