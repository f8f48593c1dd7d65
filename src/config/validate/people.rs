//! People of the file: `[login]`, `[[users]]` (across included files) and
//! `[[identity_scopes]]`, validated into the core's [`Login`], [`User`]
//! and [`IdentityScope`]; and the warnings about them (no `[login]`, the
//! quickstart's people).

use std::collections::HashSet;
use std::sync::Arc;

use super::super::duration;
use super::super::problems::{Problems, parse_datetime};
use super::super::raw::RawConfig;
use super::clients::REGISTERED_CLAIMS;
use super::values::group_name;
use tollgate_core::people::builtin_identity_scopes;
use tollgate_core::{IdentityScope, Login, ScopeSet, ScopeToken, SecretHash, User, Username};

/// Claims of an ID token or a userinfo answer that tollgate sets itself
/// from the protocol or from the user's own keys: a user's `claims` may
/// not take their names, or a token would say two things at once.
const PERSON_CLAIMS: [&str; 13] = [
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "groups",
];

/// The quickstart's people, whose passwords are their names.
const QUICKSTART_PEOPLE: [&str; 2] = ["alice", "bob"];

/// `[login]`, with its defaults.
pub(super) fn login(raw: &RawConfig, problems: &mut Problems<'_>) -> Option<Login> {
    let l = raw.login.as_ref()?;
    let defaults = Login::default();
    let session_lifetime = match &l.session_lifetime {
        None => defaults.session_lifetime,
        Some(d) => duration::parse(d).unwrap_or_else(|e| {
            problems.add("login.session_lifetime", e);
            defaults.session_lifetime
        }),
    };
    Some(Login {
        session_lifetime,
        title: l.title.clone(),
        ..defaults
    })
}

/// `[[identity_scopes]]`: names unique among every scope of the file (API
/// scopes in `api`, the built-in identity scopes, each other).
pub(super) fn identity_scopes(
    raw: &RawConfig,
    api: &ScopeSet,
    problems: &mut Problems<'_>,
) -> Vec<IdentityScope> {
    let builtin: Vec<String> = builtin_identity_scopes()
        .into_iter()
        .map(|s| s.name.as_str().to_owned())
        .collect();
    let mut scopes: Vec<IdentityScope> = Vec::with_capacity(raw.identity_scopes.len());
    for (i, s) in raw.identity_scopes.iter().enumerate() {
        let at = |k: &str| format!("identity_scopes[{i}].{k}");
        let name = match s.name.parse::<ScopeToken>() {
            Ok(name) => name,
            Err(e) => {
                problems.add(at("name"), e.to_string());
                continue;
            }
        };
        if builtin.iter().any(|b| b == name.as_str()) {
            problems.add(
                at("name"),
                format!("{name} is a built-in identity scope; declare only others"),
            );
            continue;
        }
        if api.contains(&name) {
            problems.add(
                at("name"),
                format!("{name} is also an [[api_scopes]] name; a scope is one or the other"),
            );
            continue;
        }
        if scopes.iter().any(|s| s.name == name) {
            problems.add(at("name"), format!("scope {name} is declared twice"));
            continue;
        }
        let before = problems.len();
        for (j, claim) in s.claims.iter().enumerate() {
            if claim.trim().is_empty() {
                problems.add(
                    format!("{}[{j}]", at("claims")),
                    "a claim name may not be empty",
                );
            } else if REGISTERED_CLAIMS.contains(&claim.as_str()) && claim != "sub" {
                problems.add(
                    format!("{}[{j}]", at("claims")),
                    format!("claim {claim:?} is the token's, not the person's; a scope cannot release it"),
                );
            }
        }
        if problems.len() == before {
            scopes.push(IdentityScope {
                name,
                display_name: s.display_name.clone(),
                claims: s.claims.clone(),
            });
        }
    }
    scopes
}

/// `[[users]]` of every file: usernames unique, passwords as hashes.
pub(super) fn users(raw: &RawConfig, problems: &mut Problems<'_>) -> Vec<Arc<User>> {
    let mut names = HashSet::with_capacity(raw.users.len());
    let mut users = Vec::with_capacity(raw.users.len());
    for (i, u) in raw.users.iter().enumerate() {
        let at = |k: &str| format!("users[{i}].{k}");
        let before = problems.len();
        let username = match u.username.parse::<Username>() {
            Ok(name) if !names.insert(u.username.as_str()) => {
                problems.add(
                    at("username"),
                    format!("username {name} is used by an earlier user"),
                );
                None
            }
            Ok(name) => Some(name),
            Err(e) => {
                problems.add(at("username"), e);
                None
            }
        };
        let password_hash = password_hash(&u.password_hash, &at("password_hash"), problems);
        for (j, group) in u.groups.iter().enumerate() {
            if let Err(e) = group_name(group) {
                problems.add(format!("{}[{j}]", at("groups")), e);
            }
        }
        for name in u.claims.keys() {
            if REGISTERED_CLAIMS.contains(&name.as_str()) || PERSON_CLAIMS.contains(&name.as_str())
            {
                problems.add(
                    format!("{}.{name}", at("claims")),
                    format!("claim {name:?} is set by tollgate itself and cannot be overridden"),
                );
            }
        }
        let tokens_valid_after = match &u.tokens_valid_after {
            None => None,
            Some(raw) => parse_datetime(raw)
                .map_err(|e| problems.add(at("tokens_valid_after"), e))
                .ok(),
        };
        if problems.len() > before {
            continue;
        }
        let (Some(username), Some(hash)) = (username, password_hash) else {
            continue;
        };
        users.push(Arc::new(User {
            username,
            password_hash: Some(hash),
            name: u.name.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified.unwrap_or(false),
            groups: u.groups.clone(),
            claims: u.claims.clone().into_iter().collect(),
            enabled: u.enabled.unwrap_or(true),
            tokens_valid_after,
        }));
    }
    users
}

/// A password's Argon2id hash; a password written in its place is named
/// as such, as a client secret would be.
fn password_hash(text: &str, path: &str, problems: &mut Problems<'_>) -> Option<SecretHash> {
    text.parse::<SecretHash>()
        .map_err(|e| {
            if text.starts_with('$') {
                problems.add(path, e);
            } else {
                problems.add_hinted(
                    path,
                    "this looks like a plaintext password; only Argon2id hashes may be stored",
                    Some("run `tollgate users set-password NAME`, or paste the $argon2id$... line `tollgate hash-secret` prints"),
                );
            }
        })
        .ok()
}

/// No one can sign in without `[login]`; the quickstart's people are
/// for trying only.
pub(super) fn warn(raw: &RawConfig, problems: &mut Problems<'_>) {
    if raw.login.is_none() && !raw.users.is_empty() {
        problems.add_hinted(
            "users",
            "there are [[users]] but no [login] section, so no one can sign in",
            Some("add [login] (session_lifetime, title) to let people sign in"),
        );
    }
    let quickstart: Vec<(usize, &str)> = raw
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| QUICKSTART_PEOPLE.contains(&u.username.as_str()))
        .map(|(i, u)| (i, u.username.as_str()))
        .collect();
    if let Some((first, _)) = quickstart.first() {
        let names: Vec<&str> = quickstart.iter().map(|(_, n)| *n).collect();
        problems.add_hinted(
            format!("users[{first}].username"),
            format!(
                "{} the quickstart's people, for trying only",
                match names.as_slice() {
                    [one] => format!("user {one} is one of"),
                    many => format!("users {} are", many.join(" and ")),
                }
            ),
            Some("remove them (`tollgate users remove NAME`) or change their passwords (`tollgate users set-password NAME`)"),
        );
    }
}
