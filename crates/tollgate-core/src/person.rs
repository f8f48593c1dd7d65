//! A person as the token side sees her: whether she still stands (a user
//! of the file: present, enabled, not revoked since; a provider's person,
//! whose `sub` holds `|`: as long as what she signed in with lives), and
//! her claims for a set of granted scopes, the one rule the id token and
//! userinfo share (OpenID Connect Core §5.4).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::people::User;
use super::refusal::Reason;
use super::registry::Registry;
use super::scope::ScopeSet;

/// A person a token is issued for, and when she signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// A username of the file, or `<provider>|<sub>`.
    pub sub: String,
    /// Unix seconds: `auth_time`.
    pub auth_time: i64,
}

/// Whether `sub` is a person signed in through a provider (`corp|1234`):
/// a username can never hold `|`.
pub fn from_provider(sub: &str) -> bool {
    sub.contains('|')
}

/// The user of the file `sub` names, if she stands for something that
/// began at `since` (Unix seconds): present, enabled, and not revoked
/// since. A provider's person is not in the file: `Ok(None)`.
pub(crate) fn standing<'r>(
    registry: &'r Registry,
    sub: &str,
    since: i64,
) -> Result<Option<&'r User>, Reason> {
    if from_provider(sub) {
        return Ok(None);
    }
    let since = OffsetDateTime::from_unix_timestamp(since).map_err(|_| Reason::PersonInactive)?;
    match registry.user(sub) {
        Some(user) if user.stands_since(since) => Ok(Some(user)),
        _ => Err(Reason::PersonInactive),
    }
}

/// The claims of `scopes`' identity scopes about a person: from the file
/// for a user (as it says now), from `copied` (what a provider said at
/// sign-in) for a provider's person. `sub` is the caller's to add.
pub fn person_claims(
    registry: &Registry,
    user: Option<&User>,
    copied: Option<&Map<String, Value>>,
    scopes: &ScopeSet,
) -> Map<String, Value> {
    let mut out = Map::new();
    for scope in scopes.iter() {
        let Some(identity) = registry.identity_scope(scope.as_str()) else {
            continue;
        };
        for claim in &identity.claims {
            let value = match (user, copied) {
                (Some(user), _) => user_claim(user, claim),
                (None, Some(copied)) => copied.get(claim.as_str()).cloned(),
                (None, None) => None,
            };
            if let Some(value) = value
                && claim != "sub"
            {
                out.insert(claim.clone(), value);
            }
        }
    }
    out
}

/// One claim of a user of the file, by its OpenID Connect name; any
/// other name is one of her declared `claims`.
fn user_claim(user: &User, claim: &str) -> Option<Value> {
    match claim {
        "name" => user.name.clone().map(Value::String),
        "preferred_username" => Some(Value::String(user.username.to_string())),
        "email" => user.email.clone().map(Value::String),
        "email_verified" => user
            .email
            .as_ref()
            .map(|_| Value::Bool(user.email_verified)),
        "groups" => Some(Value::Array(
            user.groups.iter().cloned().map(Value::String).collect(),
        )),
        other => user.claims.get(other).cloned(),
    }
}
