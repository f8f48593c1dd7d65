//! The rules of `[[api_scopes]]`, `[[api_resources]]` and `[[clients]]`:
//! each list validated, then indexed into the protocol core's
//! [`Registry`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use time::OffsetDateTime;

use super::super::Config;
use super::super::problems::Problems;
use super::super::raw::RawConfig;
use super::clients::{self, ClientContext};
use super::code_flow;
use super::federation;
use super::people;
use super::providers::ProviderSettings;
use super::values::{known_scopes, secrets};
use tollgate_core::people::builtin_identity_scopes;
use tollgate_core::{ApiResource, ApiScope, Client, Registry, ScopeSet, ScopeToken};

pub(super) fn build(
    raw: &RawConfig,
    base: &Path,
    providers: &[ProviderSettings],
    problems: &mut Problems<'_>,
    reused: &[Option<Arc<Client>>],
) -> Registry {
    let scopes = scopes(raw, problems);
    let declared: ScopeSet = scopes.iter().map(|s| s.name.clone()).collect();
    let resources = resources(raw, &declared, problems);
    let issuers = federation::trusted_issuers(&raw.trusted_issuers, base, problems);
    let identity_scopes = people::identity_scopes(raw, &declared, problems);
    // A client may be allowed API scopes and identity scopes alike.
    let identity: ScopeSet = builtin_identity_scopes()
        .iter()
        .chain(&identity_scopes)
        .map(|s| s.name.clone())
        .collect();
    let mut requestable = declared.clone();
    for s in identity.iter() {
        requestable.insert(s.clone());
    }
    let cx = ClientContext {
        declared: &requestable,
        identity: &identity,
        issuers: &issuers,
        resources: &resources,
        base,
        providers,
    };
    let mut clients: Vec<Arc<Client>> = Vec::with_capacity(raw.clients.len());
    let mut ids = HashSet::with_capacity(raw.clients.len());
    for (i, c) in raw.clients.iter().enumerate() {
        if !ids.insert(c.client_id.as_str()) {
            problems.add(
                format!("clients[{i}].client_id"),
                format!("client_id {:?} is used by an earlier client", c.client_id),
            );
            continue;
        }
        if let Some(Some(client)) = reused.get(i) {
            clients.push(client.clone());
        } else if let Some(client) = clients::client(c, i, &cx, problems) {
            clients.push(Arc::new(client));
        }
    }
    // Users are few: validated on every reload, on both paths.
    let login = people::login(raw, problems).map(|mut login| {
        login.providers = providers.iter().map(|p| p.provider.clone()).collect();
        login
    });
    let users = people::users(raw, problems);
    Registry::new(scopes, resources, clients, issuers).with_people(login, users, identity_scopes)
}

fn scopes(raw: &RawConfig, problems: &mut Problems<'_>) -> Vec<ApiScope> {
    let mut scopes: Vec<ApiScope> = Vec::with_capacity(raw.api_scopes.len());
    for (i, s) in raw.api_scopes.iter().enumerate() {
        let path = format!("api_scopes[{i}].name");
        match s.name.parse::<ScopeToken>() {
            Ok(name) if scopes.iter().any(|s| s.name == name) => {
                problems.add(path, format!("scope {name} is declared twice"))
            }
            Ok(name) => scopes.push(ApiScope {
                name,
                display_name: s.display_name.clone(),
            }),
            Err(e) => problems.add(path, e.to_string()),
        }
    }
    scopes
}

fn resources(
    raw: &RawConfig,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> Vec<ApiResource> {
    let mut resources = Vec::with_capacity(raw.api_resources.len());
    let mut names = HashSet::new();
    let scope_files: std::collections::HashMap<&str, usize> = raw
        .api_scopes
        .iter()
        .map(|s| (s.name.as_str(), s.origin))
        .collect();
    // Tokens granted no resource carry this audience: "any API of this
    // issuer". A resource of that name would introspect all of them.
    let reserved = raw
        .issuer
        .as_deref()
        .map(|i| format!("{}/resources", i.trim_end_matches('/')));
    for (i, r) in raw.api_resources.iter().enumerate() {
        if reserved.as_deref() == Some(r.name.as_str()) {
            problems.add(
                format!("api_resources[{i}].name"),
                format!(
                    "{} is the audience of tokens granted no resource; a resource may not take it",
                    r.name
                ),
            );
        }
        // A team's file is its own: its resources list only the scopes it
        // declares, or a token for the team's API would carry another
        // team's audience, and that team could introspect it.
        if r.origin != 0 {
            for (j, scope) in r.scopes.iter().enumerate() {
                if scope_files
                    .get(scope.as_str())
                    .is_some_and(|f| *f != r.origin)
                {
                    problems.add(
                        format!("api_resources[{i}].scopes[{j}]"),
                        format!(
                            "scope {scope} is declared in another file; a resource in an included file lists only the scopes that file declares"
                        ),
                    );
                }
            }
        }
        if r.name.trim().is_empty() {
            problems.add(
                format!("api_resources[{i}].name"),
                "a resource name may not be empty",
            );
        } else if !names.insert(r.name.as_str()) {
            problems.add(
                format!("api_resources[{i}].name"),
                format!("resource {} is declared twice", r.name),
            );
        }
        let scopes = known_scopes(
            &r.scopes,
            &format!("api_resources[{i}].scopes"),
            declared,
            problems,
        );
        resources.push(ApiResource {
            name: r.name.clone(),
            scopes: scopes.iter().cloned().collect(),
            secrets: secrets(&r.secrets, &format!("api_resources[{i}].secrets"), problems),
        });
    }
    resources
}

/// How soon before a secret expires `check` starts warning.
const EXPIRY_WARNING: time::Duration = time::Duration::days(14);

pub(super) fn warn(
    config: &Config,
    raw: &RawConfig,
    now: OffsetDateTime,
    problems: &mut Problems<'_>,
) {
    for (i, c) in raw.clients.iter().enumerate() {
        let Some(client) = config.registry.client(&c.client_id) else {
            continue;
        };
        // A secret that outlives the warning: the others expiring soon are
        // being rotated out (as `clients rotate-secret` does), not a risk.
        let successor = client
            .secrets
            .list
            .iter()
            .any(|s| s.expires.is_none_or(|e| e - now >= EXPIRY_WARNING));
        for (j, s) in client.secrets.list.iter().enumerate() {
            if let Some(expires) = s.expires {
                let path = format!("clients[{i}].secrets[{j}].expires");
                if expires <= now {
                    problems.add(path, "this secret has expired and no longer authenticates");
                } else if expires - now < EXPIRY_WARNING && !successor {
                    let days = (expires - now).whole_days();
                    problems.add_hinted(
                        path,
                        format!("this secret expires in {days} days"),
                        Some("add a new [[clients.secrets]] entry now and hand out its secret"),
                    );
                }
            }
        }
        let uris = [
            ("redirect_uris", &client.redirect_uris),
            (
                "post_logout_redirect_uris",
                &client.post_logout_redirect_uris,
            ),
        ];
        for (key, uris) in uris {
            for (j, uri) in uris.iter().enumerate() {
                if code_flow::http_beyond_loopback(uri) {
                    problems.add_hinted(
                        format!("clients[{i}].{key}[{j}]"),
                        format!("{uri} is plain http beyond loopback: codes and sessions would travel in the clear"),
                        Some("use https outside development"),
                    );
                }
            }
        }
        let other_ways = !matches!(client.keys, tollgate_core::KeySource::None)
            || !client.federated.is_empty()
            || client.certificate.is_some();
        // A public client has no credential by design.
        if client.enabled
            && !client.public
            && !other_ways
            && client.secrets.valid_at(now).next().is_none()
        {
            problems.add(
                format!("clients[{i}]"),
                "this client has no valid secret and cannot authenticate",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use time::macros::datetime;

    use super::super::super::{Overrides, check};

    /// The errors of `main` with `team` as its one included file, as
    /// `key path: message` lines.
    fn errors(main: &str, team: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("teams")).unwrap();
        std::fs::write(dir.path().join("teams/a.toml"), team).unwrap();
        let path = dir.path().join("identity.toml");
        let main = format!("issuer = \"https://id.example\"\ninclude = [\"teams/*.toml\"]\n{main}");
        std::fs::write(&path, &main).unwrap();
        let report = check(
            &main,
            Path::new(&path),
            Overrides::None,
            datetime!(2026-12-01 0:00 UTC),
        );
        report
            .errors
            .iter()
            .map(|p| format!("{}: {}", p.key_path, p.message))
            .collect()
    }

    #[test]
    fn a_teams_resource_lists_only_its_own_scopes_and_none_takes_the_default_audience() {
        let main = "[[api_scopes]]\nname = \"shared\"\n";
        let own = "[[api_scopes]]\nname = \"team.read\"\n[[api_resources]]\nname = \"https://team.example\"\nscopes = [\"team.read\"]\n";
        assert_eq!(errors(main, own), Vec::<String>::new());
        let foreign = "[[api_scopes]]\nname = \"team.read\"\n[[api_resources]]\nname = \"https://team.example\"\nscopes = [\"team.read\", \"shared\"]\n";
        let found = errors(main, foreign);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "api_resources[0].scopes[1]: scope shared is declared in another file"
            ),
            "{found:?}"
        );
        // The main file's resources may list any scope.
        let main_resource = "[[api_scopes]]\nname = \"shared\"\n[[api_resources]]\nname = \"https://main.example\"\nscopes = [\"shared\", \"team.read\"]\n";
        assert_eq!(errors(main_resource, own), Vec::<String>::new());
        let reserved = "[[api_scopes]]\nname = \"shared\"\n[[api_resources]]\nname = \"https://id.example/resources\"\nscopes = [\"shared\"]\n";
        let found = errors(reserved, own);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("the audience of tokens granted no resource"),
            "{found:?}"
        );
    }
}
