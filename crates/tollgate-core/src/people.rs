//! People: the users of the file who sign in with a password, the
//! `[login]` settings, and the identity scopes (OpenID Connect Core §5.4)
//! whose claims describe a person. Data only, validated by the config
//! module; the sign-in and the grants that use it live elsewhere.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::client::SecretHash;
use super::scope::ScopeToken;

/// The longest username tollgate accepts, in the file and on the form.
pub const MAX_USERNAME_LEN: usize = 255;

/// A username: the `sub` of her tokens. Printable ASCII without spaces
/// and without `|`, which separates a provider's name from its subject in
/// the `sub` of people signed in elsewhere (`corp|1234`), so a user of the
/// file can never take the name of a provider's person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of a person a provider signed in: `<provider>|<sub>`, the
    /// one form with a `|`, which no user of the file can take.
    pub fn of_provider(sub: &str) -> Self {
        Self(sub.to_owned())
    }
}

impl FromStr for Username {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            Err("username may not be empty")
        } else if s.len() > MAX_USERNAME_LEN {
            Err("username may be at most 255 bytes long")
        } else if s.contains('|') {
            Err("username may not contain '|' (it separates a provider from its subject)")
        } else if !s.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
            Err("username may hold only printable ASCII without spaces")
        } else {
            Ok(Self(s.to_owned()))
        }
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person of the file (`[[users]]`).
#[derive(Debug, Clone, Default)]
pub struct User {
    pub username: Username,
    /// `None` only in tests and for people who cannot sign in with a
    /// password; the file requires one.
    pub password_hash: Option<SecretHash>,
    /// `profile` scope.
    pub name: Option<String>,
    /// `email` scope.
    pub email: Option<String>,
    pub email_verified: bool,
    /// `groups` scope, and what a client's `allowed_groups` admits.
    pub groups: Vec<String>,
    /// Extra claims, released by `[[identity_scopes]]` that name them.
    pub claims: Map<String, Value>,
    pub enabled: bool,
    /// Sessions, tokens and refresh tokens from before this instant no
    /// longer stand: one edit signs her out everywhere.
    pub tokens_valid_after: Option<OffsetDateTime>,
}

impl User {
    /// Whether something of hers that began at `since` (a sign-in, a
    /// token's `iat`) still stands: she is enabled and not revoked since.
    pub fn stands_since(&self, since: OffsetDateTime) -> bool {
        self.enabled && self.tokens_valid_after.is_none_or(|after| since >= after)
    }

    /// Whether she is one of `groups` (empty: everyone is admitted).
    pub fn admitted_by(&self, groups: &[String]) -> bool {
        groups.is_empty() || groups.iter().any(|g| self.groups.contains(g))
    }
}

/// `[login]`: people may sign in. Absent, the authorization endpoint
/// refuses every request as before.
#[derive(Debug, Clone)]
pub struct Login {
    /// How long a browser session at tollgate lasts.
    pub session_lifetime: Duration,
    /// Shown on the sign-in page.
    pub title: Option<String>,
    /// `[[login.providers]]`: upstream OpenID providers, in file order.
    pub providers: Vec<std::sync::Arc<super::upstream::Provider>>,
}

impl Login {
    /// The provider called `name`.
    pub fn provider(&self, name: &str) -> Option<&std::sync::Arc<super::upstream::Provider>> {
        self.providers.iter().find(|p| p.name.as_str() == name)
    }
}

impl Default for Login {
    fn default() -> Self {
        Self {
            session_lifetime: Duration::from_secs(8 * 3600),
            title: None,
            providers: Vec::new(),
        }
    }
}

/// A scope that releases claims about the person (OpenID Connect Core
/// §5.4), built in or declared by `[[identity_scopes]]`.
#[derive(Debug, Clone)]
pub struct IdentityScope {
    pub name: ScopeToken,
    /// Shown on the consent page.
    pub display_name: Option<String>,
    /// The claims it releases.
    pub claims: Vec<String>,
}

/// `openid`: the scope that makes a request an OpenID Connect one.
pub const OPENID: &str = "openid";
/// `offline_access`: a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The identity scopes every file has: OpenID Connect Core §5.4's, and
/// `groups`. Declared ones come after them.
pub fn builtin_identity_scopes() -> Vec<IdentityScope> {
    let scope = |name: &str, display: &str, claims: &[&str]| IdentityScope {
        name: name.parse().expect("a valid scope token"),
        display_name: Some(display.to_owned()),
        claims: claims.iter().map(|c| (*c).to_owned()).collect(),
    };
    vec![
        scope(OPENID, "Your user identifier", &["sub"]),
        scope(
            "profile",
            "Your name and username",
            &["name", "preferred_username"],
        ),
        scope("email", "Your email address", &["email", "email_verified"]),
        scope("groups", "The groups you belong to", &["groups"]),
        scope(OFFLINE_ACCESS, "Access while you are away", &[]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_may_not_take_a_providers_separator() {
        assert!("alice".parse::<Username>().is_ok());
        assert!("corp|alice".parse::<Username>().is_err());
        assert!("al ice".parse::<Username>().is_err());
        assert!("".parse::<Username>().is_err());
    }

    #[test]
    fn a_user_revoked_after_a_sign_in_no_longer_stands_on_it() {
        let t = |s| OffsetDateTime::from_unix_timestamp(s).unwrap();
        let mut alice = User {
            enabled: true,
            tokens_valid_after: Some(t(1000)),
            ..User::default()
        };
        assert!(!alice.stands_since(t(999)));
        assert!(alice.stands_since(t(1000)));
        alice.enabled = false;
        assert!(!alice.stands_since(t(2000)));
    }
}
