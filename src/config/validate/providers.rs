//! The rules of `[[login.providers]]` (upstream OpenID providers) and of
//! the client key `login_providers` that names them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;

use super::super::problems::Problems;
use super::super::raw_providers::RawProvider;
use super::federation::{claim_conditions, pointer_problem, secure_url};
use tollgate_core::ScopeToken;
use tollgate_core::upstream::{Provider, ProviderName};

/// The scopes asked of a provider when the file names none.
const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// Where tollgate's client secret at a provider is read from, at each use
/// (a rotated secret file takes effect at the next sign-in). Not the
/// secret: it may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// An environment variable.
    Env(String),
    /// A file; one trailing newline is not part of the secret.
    File(PathBuf),
}

impl SecretSource {
    /// The secret, read now. Errors name the source, never the content.
    pub(crate) fn read(&self) -> Result<SecretString, String> {
        let secret = match self {
            Self::Env(var) => std::env::var(var).map_err(|_| {
                format!("the client secret variable {var} is not set (or not UTF-8)")
            })?,
            Self::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!("cannot read the client secret file {}: {e}", path.display())
                })?;
                let secret = text.strip_suffix('\n').unwrap_or(&text);
                secret.strip_suffix('\r').unwrap_or(secret).to_owned()
            }
        };
        if secret.is_empty() {
            return Err(format!("the client secret in {self} is empty"));
        }
        Ok(SecretString::from(secret))
    }
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(var) => write!(f, "the variable {var}"),
            Self::File(path) => write!(f, "the file {}", path.display()),
        }
    }
}

/// A provider as the server uses it: the core's rules and where its
/// client secret is.
#[derive(Debug, Clone)]
pub(crate) struct ProviderSettings {
    pub(crate) provider: Arc<Provider>,
    pub(crate) secret: SecretSource,
}

/// `[[login.providers]]` at `at` (`login.providers`), each problem at its
/// key; the valid ones.
pub(super) fn build(
    raw: &[RawProvider],
    at: &str,
    base: &Path,
    problems: &mut Problems<'_>,
) -> Vec<ProviderSettings> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let here = |key: &str| format!("{at}[{i}].{key}");
        let before = problems.len();
        let name = match r.name.parse::<ProviderName>() {
            Ok(name) if !seen.insert(name.clone()) => {
                problems.add(
                    here("name"),
                    format!("provider {:?} is declared twice", r.name),
                );
                None
            }
            Ok(name) => Some(name),
            Err(e) => {
                problems.add(here("name"), e);
                None
            }
        };
        if let Err(e) = secure_url(&r.issuer) {
            problems.add(here("issuer"), e);
        }
        if r.client_id.is_empty() {
            problems.add(here("client_id"), "the client id at the provider is empty");
        }
        let secret = match (&r.client_secret_env, &r.client_secret_file) {
            (Some(var), None) if !var.is_empty() => Some(SecretSource::Env(var.clone())),
            (None, Some(file)) if !file.is_empty() => Some(SecretSource::File(base.join(file))),
            _ => {
                problems.add_hinted(
                    format!("{at}[{i}]"),
                    "needs exactly one of client_secret_env and client_secret_file",
                    Some("the secret is never written in this file: put it in an environment variable (client_secret_env) or a file (client_secret_file)"),
                );
                None
            }
        };
        let scopes = scopes(r, &here("scopes"), problems);
        let mut domains = Vec::with_capacity(r.allowed_email_domains.len());
        for (j, d) in r.allowed_email_domains.iter().enumerate() {
            if d.is_empty() || d.contains('@') || d.contains(char::is_whitespace) {
                problems.add_hinted(
                    format!("{}[{j}]", here("allowed_email_domains")),
                    format!("{d:?} is not a domain"),
                    Some("write the part after the @, e.g. \"corp.example\""),
                );
            } else {
                domains.push(d.to_ascii_lowercase());
            }
        }
        let claims = claim_conditions(&r.claims, &here("claims"), problems);
        if let Some(why) = r.groups_claim.as_deref().and_then(pointer_problem) {
            problems.add(here("groups_claim"), why);
        }
        if problems.len() > before {
            continue;
        }
        let (Some(name), Some(secret)) = (name, secret) else {
            continue;
        };
        out.push(ProviderSettings {
            provider: Arc::new(Provider {
                name,
                display_name: r.display_name.clone(),
                issuer: r.issuer.clone(),
                client_id: r.client_id.clone(),
                scopes,
                allowed_email_domains: domains,
                claims,
                groups_claim: r.groups_claim.clone(),
            }),
            secret,
        });
    }
    out
}

/// The scopes asked of the provider: tokens, `openid` among them.
fn scopes(r: &RawProvider, at: &str, problems: &mut Problems<'_>) -> Vec<String> {
    let Some(list) = &r.scopes else {
        return DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    };
    for (j, s) in list.iter().enumerate() {
        if let Err(e) = s.parse::<ScopeToken>() {
            problems.add(format!("{at}[{j}]"), e.to_string());
        }
    }
    if !list.iter().any(|s| s == "openid") {
        problems.add_hinted(
            at,
            "the scopes asked of a provider must include openid",
            Some("scopes = [\"openid\", \"email\", \"profile\"]"),
        );
    }
    list.clone()
}

/// Warnings: a provider anyone with an account at can sign in through.
pub(super) fn warn(raw: &[RawProvider], at: &str, problems: &mut Problems<'_>) {
    for (i, r) in raw.iter().enumerate() {
        if r.allowed_email_domains.is_empty() && r.claims.is_empty() {
            problems.add_hinted(
                format!("{at}[{i}]"),
                format!(
                    "anyone with an account at {} can sign in: this provider has no admission rule",
                    r.issuer
                ),
                Some("add allowed_email_domains = [\"your.domain\"] or claims = { ... }"),
            );
        }
    }
}

/// A client's `login_providers`: names of declared providers, at `at`.
pub(super) fn client_providers(
    names: &[String],
    declared: &[ProviderSettings],
    at: &str,
    problems: &mut Problems<'_>,
) -> Vec<ProviderName> {
    let mut out = Vec::with_capacity(names.len());
    for (j, n) in names.iter().enumerate() {
        match declared.iter().find(|p| p.provider.name.as_str() == n) {
            Some(p) => out.push(p.provider.name.clone()),
            None => {
                let known: Vec<&str> = declared.iter().map(|p| p.provider.name.as_str()).collect();
                problems.add_hinted(
                    format!("{at}[{j}]"),
                    format!("{n:?} is not the name of a [[login.providers]] entry"),
                    Some(&if known.is_empty() {
                        "declare it: [[login.providers]] name = \"...\", issuer = \"https://...\""
                            .to_owned()
                    } else {
                        format!("providers: {}", known.join(", "))
                    }),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn corp() -> RawProvider {
        RawProvider {
            name: "corp".into(),
            issuer: "https://login.corp.example".into(),
            client_id: "tollgate".into(),
            client_secret_env: Some("CORP_SECRET".into()),
            allowed_email_domains: vec!["Corp.Example".into()],
            ..RawProvider::default()
        }
    }

    /// The providers of `raw`, and the errors and warnings as `path:
    /// message` lines.
    fn run(raw: &[RawProvider]) -> (Vec<ProviderSettings>, Vec<String>, Vec<String>) {
        let env = BTreeMap::new();
        let mut errors = Problems::new("", &env);
        let built = build(
            raw,
            "login.providers",
            Path::new("/etc/tollgate"),
            &mut errors,
        );
        let mut warnings = Problems::new("", &env);
        warn(raw, "login.providers", &mut warnings);
        let lines = |p: Problems<'_>| {
            p.list
                .into_iter()
                .map(|p| format!("{}: {}", p.key_path, p.message))
                .collect()
        };
        (built, lines(errors), lines(warnings))
    }

    #[test]
    fn a_provider_becomes_the_cores_with_its_secrets_source_and_defaults() {
        let (built, errors, warnings) = run(&[corp()]);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(warnings, Vec::<String>::new());
        let p = &built[0];
        assert_eq!(p.provider.name.as_str(), "corp");
        assert_eq!(p.provider.scopes, ["openid", "email", "profile"]);
        assert_eq!(p.provider.allowed_email_domains, ["corp.example"]);
        assert_eq!(p.secret, SecretSource::Env("CORP_SECRET".into()));
        let file = RawProvider {
            client_secret_env: None,
            client_secret_file: Some("corp.secret".into()),
            ..corp()
        };
        assert_eq!(
            run(&[file]).0[0].secret,
            SecretSource::File("/etc/tollgate/corp.secret".into())
        );
    }

    #[test]
    fn every_broken_rule_is_a_problem_at_its_key() {
        let broken = RawProvider {
            name: "corp|eu".into(),
            issuer: "http://login.corp.example".into(),
            client_secret_file: Some("x".into()),
            scopes: Some(vec!["email".into()]),
            allowed_email_domains: vec!["@corp.example".into()],
            groups_claim: Some("/a~2".into()),
            ..corp()
        };
        let (built, errors, _) = run(&[broken, corp(), corp()]);
        assert_eq!(built.len(), 1, "{errors:?}");
        let has = |line: &str| errors.iter().any(|e| e.contains(line));
        assert!(has(
            "login.providers[0].name: a provider's name may not contain '|'"
        ));
        assert!(has(
            "login.providers[0].issuer: http://login.corp.example must be https"
        ));
        assert!(has(
            "login.providers[0]: needs exactly one of client_secret_env"
        ));
        assert!(has(
            "login.providers[0].scopes: the scopes asked of a provider must include openid"
        ));
        assert!(has(
            "login.providers[0].allowed_email_domains[0]: \"@corp.example\" is not a domain"
        ));
        assert!(has("login.providers[0].groups_claim: in a JSON Pointer"));
        assert!(has(
            "login.providers[2].name: provider \"corp\" is declared twice"
        ));
        assert_eq!(errors.len(), 7, "{errors:#?}");
    }

    #[test]
    fn plain_http_is_for_a_loopback_provider_only() {
        let local = RawProvider {
            issuer: "http://127.0.0.1:9000".into(),
            ..corp()
        };
        assert!(run(&[local]).1.is_empty());
    }

    #[test]
    fn a_provider_without_admission_rules_is_a_warning_naming_its_issuer() {
        let open = RawProvider {
            allowed_email_domains: Vec::new(),
            ..corp()
        };
        let (built, errors, warnings) = run(std::slice::from_ref(&open));
        assert_eq!((built.len(), errors.len()), (1, 0));
        assert_eq!(
            warnings,
            [
                "login.providers[0]: anyone with an account at https://login.corp.example can sign in: this provider has no admission rule"
            ]
        );
        let claims = RawProvider {
            claims: [("hd".to_owned(), "corp.example".into())].into(),
            ..open
        };
        assert!(run(&[claims]).2.is_empty());
    }

    #[test]
    fn a_client_names_declared_providers_only() {
        let (declared, _, _) = run(&[corp()]);
        let env = BTreeMap::new();
        let mut problems = Problems::new("", &env);
        let names = client_providers(
            &["corp".into(), "okta".into()],
            &declared,
            "clients[0].login_providers",
            &mut problems,
        );
        assert_eq!(names.len(), 1);
        let only = &problems.list[0];
        assert_eq!(only.key_path, "clients[0].login_providers[1]");
        assert!(only.message.contains("\"okta\" is not the name"));
        assert_eq!(only.hint.as_deref(), Some("providers: corp"));
    }

    #[test]
    fn the_secret_is_read_at_use_and_errors_never_show_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corp.secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        let source = SecretSource::File(path);
        assert_eq!(source.read().unwrap().expose_secret(), "s3cret");
        assert!(!format!("{:?}", source.read().unwrap()).contains("s3cret"));
        let unset = SecretSource::Env("TOLLGATE_TEST_CORP_SECRET_NOT_SET".into());
        assert!(unset.read().unwrap_err().contains("is not set"));
        let missing = SecretSource::File(dir.path().join("absent"));
        assert!(missing.read().unwrap_err().contains("cannot read"));
    }
}
