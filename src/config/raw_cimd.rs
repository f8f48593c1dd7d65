//! The serde mirror of `[client_metadata_documents]`: which URLs may name
//! a client (Client ID Metadata Documents), and what such a client may
//! do. Shape only, as in `raw`; the doc comments are what editors show on
//! hover.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::RawDuration;

/// `[client_metadata_documents]`: clients whose `client_id` is an https
/// URL serving their metadata (MCP clients that register nowhere). The
/// document is fetched without redirects, within 5 s and 5 KiB, never
/// from a private, loopback or link-local address unless a pattern names
/// that address; the person is always asked for consent.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetadataDocuments {
    /// URL patterns of the client ids allowed, e.g.
    /// `["https://app.example.com/*"]`: scheme, host and port literal, `*`
    /// a run of characters within one path segment. https only (http for
    /// a loopback host). Empty: no client is named by a URL.
    #[serde(default)]
    pub allow: Vec<String>,
    /// The scopes every such client may request: declared API scopes or
    /// identity scopes (`openid`, `offline_access`, ...).
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// Grant types. Default `["authorization_code", "refresh_token"]`.
    #[serde(default)]
    pub allowed_grant_types: Option<Vec<String>>,
    /// Lifetime of their access tokens. Default `"1h"`.
    #[serde(default)]
    pub access_token_lifetime: Option<RawDuration>,
    /// Refresh tokens stop working this long after the sign-in (absolute).
    /// Default `"30d"`.
    #[serde(default)]
    pub refresh_token_lifetime: Option<RawDuration>,
    /// Tokens only with a DPoP proof (RFC 9449). Default `false`.
    #[serde(default)]
    pub require_dpop: Option<bool>,
}
