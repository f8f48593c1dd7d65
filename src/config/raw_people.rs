//! The serde mirror of people in `identity.toml`: `[login]`, `[[users]]`
//! and `[[identity_scopes]]`. Shape only, as in `raw`; the doc comments
//! are what editors show on hover.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::{RawDateTime, RawDuration};

/// `[login]`: people may sign in at tollgate. Without it no one signs in,
/// and the authorization endpoint refuses every request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLogin {
    /// How long a browser session at tollgate lasts, e.g. `"8h"`.
    /// Default `"8h"`.
    #[serde(default)]
    pub session_lifetime: Option<RawDuration>,
    /// Shown on the sign-in page, e.g. `"Acme sign-in"`.
    #[serde(default)]
    pub title: Option<String>,
    /// Upstream OpenID providers people may sign in through ("Sign in
    /// with …"), beside or instead of `[[users]]`.
    #[serde(default)]
    pub providers: Vec<super::raw_providers::RawProvider>,
}

/// `[[users]]`: a person who signs in with a password.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    /// Unique across all files; the `sub` of her tokens. Printable ASCII
    /// without spaces and without `|`.
    pub username: String,
    /// Argon2id PHC string, as `tollgate users add` or `tollgate
    /// hash-secret` prints it (`"$argon2id$v=19$..."`). Never the password.
    pub password_hash: String,
    /// Her name, released by the `profile` scope, e.g. `"Alice Smith"`.
    #[serde(default)]
    pub name: Option<String>,
    /// Her email address, released by the `email` scope.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether her email address is known to be hers. Default `false`.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// The groups she belongs to: the `groups` claim (scope `groups`), and
    /// what a client's `allowed_groups` admits, e.g. `["admins"]`.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Extra claims about her, e.g. `{ department = "eng" }`, released by
    /// the `[[identity_scopes]]` that name them. Claims tollgate sets
    /// itself (`sub`, `name`, `email`, `groups`, ...) may not be shadowed.
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// A disabled user cannot sign in, and her sessions and tokens no
    /// longer stand. Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Her sessions, tokens and refresh tokens from before this instant
    /// no longer stand: sign her out everywhere with one edit.
    #[serde(default)]
    pub tokens_valid_after: Option<RawDateTime>,
}

/// `[[identity_scopes]]`: a scope that releases claims of the users'
/// `claims`, beside the built-in `openid`, `profile`, `email`, `groups`
/// and `offline_access`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentityScope {
    /// The scope value clients request, e.g. `"department"`; neither an
    /// `[[api_scopes]]` name nor a built-in identity scope.
    pub name: String,
    /// Shown on the consent page, e.g. `"Your department"`.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The claims it releases, e.g. `["department"]`.
    pub claims: Vec<String>,
}
