//! People in identity.toml: `[login]`, `[[users]]`, `[[identity_scopes]]`
//! and the clients of the authorization code grant; every broken rule
//! refused at its line, the shipped file's people, the warnings.

use std::path::Path;

use tollgate::{Config, Overrides};

use crate::support::{hash, now, verifies};

/// An API scope, `[login]`, and `extra`.
fn file(extra: &str) -> String {
    format!("[[api_scopes]]\nname = \"api1\"\n[login]\n{extra}")
}

/// A code-flow client with `settings` and a secret, after `before`.
fn web(settings: &str) -> String {
    file(&format!(
        "[[clients]]\nclient_id = \"web\"\n{settings}\n[[clients.secrets]]\nhash = \"{}\"\n",
        hash("secret")
    ))
}

const CODE: &str = "allowed_grant_types = [\"authorization_code\", \"refresh_token\"]";

fn warnings(toml: &str) -> Vec<String> {
    let report = tollgate::check(toml, Path::new("identity.toml"), Overrides::None, now());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
        .warnings
        .iter()
        .map(|p| format!("{}: {}", p.key_path, p.message))
        .collect()
}

#[test]
fn every_people_rule_is_refused_at_its_line() {
    let h = hash("secret");
    let user = |fields: &str| {
        format!("[[users]]\nusername = \"carol\"\npassword_hash = \"{h}\"\n{fields}")
    };
    // (file, key path, line, words in the message)
    let cases: Vec<(String, &str, usize, &str)> = vec![
        (
            file(&format!("{}{}", user(""), user(""))),
            "users[1].username",
            8,
            "used by an earlier user",
        ),
        (
            file("[[users]]\nusername = \"corp|carol\"\npassword_hash = \"x\"\n"),
            "users[0].username",
            5,
            "'|'",
        ),
        (
            file("[[users]]\nusername = \"carol\"\npassword_hash = \"hunter2\"\n"),
            "users[0].password_hash",
            6,
            "plaintext password",
        ),
        (
            file("[[users]]\nusername = \"carol\"\npassword_hash = \"$2b$12$abc\"\n"),
            "users[0].password_hash",
            6,
            "PHC",
        ),
        (
            file(&user("claims = { sub = \"root\" }")),
            "users[0].claims.sub",
            7,
            "set by tollgate itself",
        ),
        (
            file(&user("claims = { email = \"x@example.com\" }")),
            "users[0].claims.email",
            7,
            "set by tollgate itself",
        ),
        (
            file(&user("claims = { auth_time = 1 }")),
            "users[0].claims.auth_time",
            7,
            "set by tollgate itself",
        ),
        (
            file(&user("groups = [\"admins \"]")),
            "users[0].groups[0]",
            7,
            "compared exactly",
        ),
        (
            file(&user("tokens_valid_after = \"yesterday\"")),
            "users[0].tokens_valid_after",
            7,
            "date-time",
        ),
        (
            file("session_lifetime = \"0s\"\n"),
            "login.session_lifetime",
            4,
            "longer than zero",
        ),
        (
            file("[[identity_scopes]]\nname = \"api1\"\nclaims = [\"x\"]\n"),
            "identity_scopes[0].name",
            5,
            "[[api_scopes]] name",
        ),
        (
            file("[[identity_scopes]]\nname = \"profile\"\nclaims = [\"x\"]\n"),
            "identity_scopes[0].name",
            5,
            "built-in",
        ),
        (
            file(
                "[[identity_scopes]]\nname = \"dept\"\nclaims = [\"x\"]\n[[identity_scopes]]\nname = \"dept\"\nclaims = [\"y\"]\n",
            ),
            "identity_scopes[1].name",
            8,
            "twice",
        ),
        (
            file("[[identity_scopes]]\nname = \"dept\"\nclaims = [\"exp\"]\n"),
            "identity_scopes[0].claims[0]",
            6,
            "the token's",
        ),
        // Clients of the code grant.
        (
            web("allowed_grant_types = [\"authorization_code\"]"),
            "clients[0].redirect_uris",
            4,
            "at least one redirect URI",
        ),
        (
            web(&format!(
                "{CODE}\nredirect_uris = [\"https://app.example/cb#x\"]"
            )),
            "clients[0].redirect_uris[0]",
            7,
            "fragment",
        ),
        (
            web(&format!("{CODE}\nredirect_uris = [\"/cb\"]")),
            "clients[0].redirect_uris[0]",
            7,
            "absolute URL",
        ),
        (
            web(&format!("{CODE}\nredirect_uris = [\"myapp:/cb\"]")),
            "clients[0].redirect_uris[0]",
            7,
            "https (or http)",
        ),
        (
            web(&format!(
                "{CODE}\nredirect_uris = [\"https://a.example/\"]\npost_logout_redirect_uris = [\"https://a.example/#bye\"]"
            )),
            "clients[0].post_logout_redirect_uris[0]",
            8,
            "fragment",
        ),
        (
            web("allowed_grant_types = [\"refresh_token\"]"),
            "clients[0].allowed_grant_types",
            6,
            "needs authorization_code",
        ),
        (
            web(
                "allowed_grant_types = [\"authorization_code\"]\nredirect_uris = [\"https://a.example/\"]\nallowed_scopes = [\"openid\", \"offline_access\"]",
            ),
            "clients[0].allowed_scopes[1]",
            8,
            "refresh_token grant",
        ),
        (
            web("allowed_scopes = [\"openid\", \"department\"]"),
            "clients[0].allowed_scopes[1]",
            6,
            "not declared",
        ),
        (
            web(&format!(
                "{CODE}\nredirect_uris = [\"https://a.example/\"]\nallowed_groups = [\"\"]"
            )),
            "clients[0].allowed_groups[0]",
            8,
            "empty",
        ),
        (
            web(&format!(
                "{CODE}\nredirect_uris = [\"https://a.example/\"]\nrefresh_token_lifetime = \"forever\""
            )),
            "clients[0].refresh_token_lifetime",
            8,
            "duration",
        ),
        (
            web("allowed_scopes = [\"api1\", \"openid\"]"),
            "clients[0].allowed_scopes[1]",
            6,
            "granted only when a person signs in",
        ),
        // A public client: no credential, only the grants a person starts.
        (
            web(&format!(
                "{CODE}\nredirect_uris = [\"https://a.example/\"]\npublic = true"
            )),
            "clients[0].secrets",
            9,
            "a public client has no credential",
        ),
        (
            file(
                "[[clients]]\nclient_id = \"spa\"\npublic = true\nallowed_grant_types = [\"authorization_code\", \"client_credentials\"]\nredirect_uris = [\"https://a.example/\"]\n",
            ),
            "clients[0].allowed_grant_types[1]",
            7,
            "only authorization_code and refresh_token",
        ),
        (
            file("[[clients]]\nclient_id = \"spa\"\npublic = true\n"),
            "clients[0].allowed_grant_types",
            4,
            "client_credentials (the default)",
        ),
        // A confidential client of the code grant needs a credential.
        (
            file(&format!(
                "[[clients]]\nclient_id = \"web\"\n{CODE}\nredirect_uris = [\"https://a.example/\"]\n"
            )),
            "clients[0].allowed_grant_types",
            6,
            "needs a credential",
        ),
    ];
    let mut wrong = Vec::new();
    for (toml, key_path, line, words) in cases {
        let problem = crate::support::refused_at(&toml, key_path);
        let said = problem.message.contains(words)
            || problem.hint.as_deref().is_some_and(|h| h.contains(words));
        if !said || problem.line != Some(line) {
            wrong.push(format!("{key_path} (line {line}, {words:?}): {problem:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn people_and_a_public_client_of_the_code_grant_become_the_registry() {
    let toml = file(&format!(
        "title = \"Acme\"\nsession_lifetime = \"2h\"\n\
         [[identity_scopes]]\nname = \"department\"\ndisplay_name = \"Your department\"\nclaims = [\"department\"]\n\
         [[users]]\nusername = \"carol\"\npassword_hash = \"{}\"\nemail = \"carol@example.com\"\ngroups = [\"eng\"]\n\
         claims = {{ department = \"eng\" }}\nenabled = false\ntokens_valid_after = 2026-12-01T00:00:00Z\n\
         [[clients]]\nclient_id = \"spa\"\npublic = true\ndisplay_name = \"The SPA\"\n{CODE}\n\
         redirect_uris = [\"http://127.0.0.1/cb\"]\npost_logout_redirect_uris = [\"https://spa.example/\"]\n\
         allowed_scopes = [\"openid\", \"email\", \"department\", \"api1\", \"offline_access\"]\n\
         require_consent = true\nrefresh_token_lifetime = \"7d\"\nallowed_groups = [\"eng\"]\n",
        hash("secret")
    ));
    let config = Config::from_toml(&toml, Path::new("identity.toml"), now()).unwrap();
    let registry = &config.registry;
    let login = registry.login().unwrap();
    assert_eq!(login.title.as_deref(), Some("Acme"));
    assert_eq!(login.session_lifetime.as_secs(), 7200);
    let carol = registry.user("carol").unwrap();
    assert!(!carol.enabled && !carol.email_verified);
    assert_eq!(carol.groups, ["eng"]);
    assert_eq!(carol.claims["department"], "eng");
    assert!(carol.tokens_valid_after.is_some());
    assert!(carol.password_hash.is_some());
    let department = registry.identity_scope("department").unwrap();
    assert_eq!(department.claims, ["department"]);
    assert!(registry.identity_scope("openid").is_some());
    let spa = registry.client("spa").unwrap();
    assert!(spa.public && spa.require_consent);
    assert_eq!(spa.shown_name(), "The SPA");
    assert_eq!(spa.redirect_uris, ["http://127.0.0.1/cb"]);
    assert_eq!(spa.post_logout_redirect_uris, ["https://spa.example/"]);
    assert_eq!(spa.refresh_token_lifetime.as_secs(), 7 * 86_400);
    assert_eq!(spa.allowed_groups, ["eng"]);
    assert_eq!(spa.allowed_scopes.iter().count(), 5);
}

#[test]
fn people_without_login_and_plain_http_beyond_loopback_are_warned_about() {
    let user = format!(
        "[[users]]\nusername = \"carol\"\npassword_hash = \"{}\"\n",
        hash("secret")
    );
    let found = warnings(&format!("issuer = \"http://localhost:5001\"\n{user}"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("users: there are [[users]] but no [login]"),
        "{found:?}"
    );
    let found = warnings(&format!(
        "issuer = \"http://localhost:5001\"\n{}",
        web(&format!(
            "{CODE}\nredirect_uris = [\"http://app.example/cb\", \"http://localhost:5002/cb\", \"http://[::1]/cb\", \"https://app.example/cb\"]"
        ))
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "clients[0].redirect_uris[0]: http://app.example/cb is plain http beyond loopback"
        ),
        "{found:?}"
    );
}

#[test]
fn the_shipped_file_has_the_quickstart_people_the_web_client_and_warns_only_about_them() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("identity.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let report = tollgate::check(&text, &path, Overrides::None, now());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let warnings: Vec<&str> = report.warnings.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        warnings,
        ["users alice and bob are the quickstart's people, for trying only"]
    );
    let config = report.config.unwrap();
    let registry = &config.registry;
    assert!(registry.login().and_then(|l| l.title.as_deref()).is_some());
    let alice = registry.user("alice").unwrap();
    assert_eq!(alice.name.as_deref(), Some("Alice Smith"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert!(alice.email_verified && alice.enabled);
    assert_eq!(alice.groups, ["admins"]);
    let bob = registry.user("bob").unwrap();
    assert_eq!(bob.name.as_deref(), Some("Bob Smith"));
    assert_eq!(bob.email.as_deref(), Some("bob@example.com"));
    // Their passwords are their names, as the quickstart says.
    let file: toml::Table = toml::from_str(&text).unwrap();
    let users = file["users"].as_array().unwrap();
    for (user, password) in users.iter().zip(["alice", "bob"]) {
        assert_eq!(user["username"].as_str(), Some(password));
        assert!(verifies(user["password_hash"].as_str().unwrap(), password));
    }
    let web = registry.client("web").unwrap();
    assert!(!web.public);
    assert_eq!(web.redirect_uris, ["http://localhost:5002/signin-oidc"]);
    assert_eq!(web.post_logout_redirect_uris, ["http://localhost:5002/"]);
    let mut scopes: Vec<&str> = web.allowed_scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort();
    assert_eq!(
        scopes,
        ["api1", "email", "offline_access", "openid", "profile"]
    );
    let grants: Vec<&str> = web.grant_types.iter().map(|g| g.as_str()).collect();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
    assert!(registry.client("client").is_some());
}

#[test]
fn users_of_included_files_join_and_a_name_taken_twice_is_reported_in_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("people")).unwrap();
    let user = |name: &str| {
        format!(
            "[[users]]\nusername = \"{name}\"\npassword_hash = \"{}\"\n",
            hash("secret")
        )
    };
    let main = format!(
        "issuer = \"http://localhost:5001\"\ninclude = [\"people/*.toml\"]\n[login]\n{}",
        user("carol")
    );
    let path = dir.path().join("identity.toml");
    std::fs::write(&path, &main).unwrap();
    let team = dir.path().join("people/eng.toml");
    std::fs::write(&team, format!("# engineers\n{}", user("dave"))).unwrap();
    let config = Config::load(&path, now()).unwrap();
    assert!(config.registry.user("carol").is_some());
    assert!(config.registry.user("dave").is_some());

    std::fs::write(
        &team,
        format!("# engineers\n{}{}", user("dave"), user("carol")),
    )
    .unwrap();
    let report = tollgate::check(&main, &path, Overrides::None, now());
    assert!(report.config.is_none());
    let [problem] = report.errors.as_slice() else {
        panic!("{:?}", report.errors)
    };
    assert_eq!(problem.file.as_deref(), Some(team.as_path()));
    assert_eq!(problem.key_path, "users[1].username");
    assert_eq!(problem.line, Some(6));
    assert!(
        problem.message.contains("used by an earlier user"),
        "{problem:?}"
    );
}
