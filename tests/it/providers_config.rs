//! `[[login.providers]]` in identity.toml (issue 38): a provider's secret
//! never in the file, its rules refused at their lines, the warning for a
//! provider anyone can sign in through, and clients' `login_providers`.

use std::path::Path;

use tollgate::Overrides;

use crate::support::{hash, now};

/// `[login]` with `providers` (TOML of `[[login.providers]]` tables), then
/// a code-flow client with `client`.
fn file(providers: &str, client: &str) -> String {
    format!(
        "[login]\n{providers}\n[[clients]]\nclient_id = \"web\"\nallowed_grant_types = [\"authorization_code\"]\nredirect_uris = [\"https://app.example/cb\"]\nallowed_scopes = [\"openid\"]\n{client}\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    )
}

const CORP: &str = "[[login.providers]]\nname = \"corp\"\nissuer = \"https://login.corp.example\"\nclient_id = \"tollgate\"\nclient_secret_env = \"CORP_SECRET\"\n";

/// Errors and warnings as `path (line): message | hint` lines.
fn check(toml: &str) -> (Vec<String>, Vec<String>) {
    let report = tollgate::check(toml, Path::new("identity.toml"), Overrides::None, now());
    let lines = |list: &[tollgate::Problem]| {
        list.iter()
            .map(|p| {
                format!(
                    "{} ({}): {} | {}",
                    p.key_path,
                    p.line.unwrap_or(0),
                    p.message,
                    p.hint.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
    };
    (lines(&report.errors), lines(&report.warnings))
}

#[test]
fn a_client_secret_written_in_the_file_is_refused_with_where_it_belongs() {
    let (errors, _) = check(&file(
        &format!("{CORP}allowed_email_domains = [\"corp.example\"]\nclient_secret = \"s3cret\"\n"),
        "",
    ));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("login.providers[0].client_secret (8): unknown key"),
        "{errors:#?}"
    );
    assert!(errors[0].contains("client_secret_env"), "{errors:#?}");
    // The value itself is in no message.
    assert!(!errors[0].contains("s3cret"));
}

#[test]
fn a_provider_without_admission_rules_is_a_warning_and_with_one_is_not() {
    let (errors, warnings) = check(&file(CORP, ""));
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        warnings.iter().any(|w| w.starts_with("login.providers[0] (2): anyone with an account at https://login.corp.example can sign in")),
        "{warnings:#?}"
    );
    let (errors, warnings) = check(&file(
        &format!("{CORP}claims = {{ hd = \"corp.example\" }}\n"),
        "",
    ));
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        !warnings.iter().any(|w| w.contains("anyone")),
        "{warnings:#?}"
    );
}

#[test]
fn provider_rules_and_login_providers_are_refused_at_their_lines() {
    let dup = format!("{CORP}allowed_email_domains = [\"corp.example\"]\n");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            file(&format!("{dup}{dup}"), ""),
            "login.providers[1].name (9)",
            "declared twice",
        ),
        (
            file(&dup.replace("\"corp\"", "\"corp|eu\""), ""),
            "login.providers[0].name (3)",
            "'|'",
        ),
        (
            file(&dup.replace("https://login", "http://login"), ""),
            "login.providers[0].issuer (4)",
            "must be https",
        ),
        (
            file(&format!("{dup}client_secret_file = \"corp.secret\"\n"), ""),
            "login.providers[0] (2)",
            "exactly one of client_secret_env and client_secret_file",
        ),
        (
            file(&dup, "login_providers = [\"okta\"]"),
            "clients[0].login_providers[0] (14)",
            "\"okta\" is not the name of a [[login.providers]] entry",
        ),
    ];
    for (toml, at, words) in cases {
        let (errors, _) = check(&toml);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(at) && e.contains(words)),
            "{at} {words}: {errors:#?}\n{toml}"
        );
    }
    let (errors, _) = check(&file(&dup, "login_providers = [\"corp\"]"));
    assert!(errors.is_empty(), "{errors:#?}");
}
