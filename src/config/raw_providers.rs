//! The serde mirror of `[[login.providers]]`: upstream OpenID providers
//! people sign in through. Shape only; the rules are in
//! `validate/providers`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[[login.providers]]`: an upstream OpenID provider ("Sign in with …").
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvider {
    /// Its name here, e.g. `"corp"`: the `sub` of its people is
    /// `corp|<their sub there>`. Letters, digits, `-`, `_`, `.`; unique.
    pub name: String,
    /// What the sign-in page's button says ("Sign in with …"). Default:
    /// the name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The provider's issuer identifier, e.g.
    /// `"https://login.corp.example"`: its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration`. https (plain http only
    /// to a loopback address).
    pub issuer: String,
    /// tollgate's client id at the provider. Register the redirect URI
    /// `<tollgate's issuer>/connect/authorize/upstream/callback` there.
    pub client_id: String,
    /// The environment variable holding tollgate's client secret at the
    /// provider. Exactly one of `client_secret_env` and
    /// `client_secret_file`: the secret is never written in this file.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// A file holding the client secret (one trailing newline is ignored),
    /// relative to this file; keep it 0600.
    #[serde(default)]
    pub client_secret_file: Option<String>,
    /// The scopes asked of the provider. Default `["openid", "email",
    /// "profile"]`; `openid` is required.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Only people whose verified email (`email_verified` true) is in one
    /// of these domains may sign in, e.g. `["corp.example"]`; compared
    /// without case, a subdomain is another domain.
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
    /// Conditions on the provider's id token, each equal to its value, as
    /// for `[[clients.federated]]`: a claim name (`hd = "corp.example"`) or
    /// an RFC 6901 JSON Pointer (`"/groups/0" = "staff"`).
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// The id token claim that holds her groups (a name or an RFC 6901
    /// JSON Pointer, e.g. `"groups"` or `"/realm_access/roles"`): copied
    /// as `groups`, which clients' `allowed_groups` read.
    #[serde(default)]
    pub groups_claim: Option<String>,
}
