//! `[client_metadata_documents]` validated into the core's policy: each
//! pattern parsed (`*` alone, a pattern without a host, http beyond
//! loopback are errors), its scopes declared, its settings read.

use std::time::Duration;

use super::super::duration;
use super::super::problems::Problems;
use super::super::raw::RawDuration;
use super::super::raw_cimd::RawMetadataDocuments;
use super::clients::grant_types;
use super::values::known_scopes;
use tollgate_core::metadata_documents::{MetadataDocuments, UrlPattern};
use tollgate_core::{GrantType, Registry, ScopeSet};

const AT: &str = "client_metadata_documents";

/// The policy of `raw`, against the scopes `registry` knows (API scopes
/// and identity scopes alike).
pub(super) fn build(
    raw: &RawMetadataDocuments,
    registry: &Registry,
    problems: &mut Problems<'_>,
) -> MetadataDocuments {
    let defaults = MetadataDocuments::default();
    let mut allow = Vec::with_capacity(raw.allow.len());
    for (i, text) in raw.allow.iter().enumerate() {
        match text.parse::<UrlPattern>() {
            Ok(p) if allow.contains(&p) => {
                problems.add(format!("{AT}.allow[{i}]"), format!("{text} is listed twice"))
            }
            Ok(p) => allow.push(p),
            Err(e) => problems.add_hinted(
                format!("{AT}.allow[{i}]"),
                e,
                Some("e.g. \"https://app.example.com/*\": scheme, host and port as they are, * within one path segment"),
            ),
        }
    }
    let known: ScopeSet = registry
        .scopes_supported()
        .iter()
        .cloned()
        .chain(registry.identity_scopes().iter().map(|s| s.name.clone()))
        .collect();
    let allowed_scopes = known_scopes(
        &raw.allowed_scopes,
        &format!("{AT}.allowed_scopes"),
        &known,
        problems,
    );
    if !allow.is_empty() && allowed_scopes.is_empty() {
        problems.add_hinted(
            format!("{AT}.allowed_scopes"),
            "clients named by a URL may request no scope",
            Some("list the scopes they may ask for, e.g. [\"mcp:tools\", \"openid\", \"offline_access\"]"),
        );
    }
    let grant_types = match &raw.allowed_grant_types {
        None => defaults.grant_types,
        Some(names) => {
            let path = format!("{AT}.allowed_grant_types");
            let types = grant_types(Some(names), &path, problems);
            // A URL names a client nobody vouched for: no grant without a
            // person (client credentials, token exchange) is open to it.
            for (j, g) in types.iter().enumerate() {
                if !matches!(g, GrantType::AuthorizationCode | GrantType::RefreshToken) {
                    problems.add(
                        format!("{path}[{j}]"),
                        format!(
                            "{} is not for clients named by a URL: only authorization_code and refresh_token",
                            g.as_str()
                        ),
                    );
                }
            }
            types
        }
    };
    let access_token_lifetime = lifetime(
        raw.access_token_lifetime.as_ref(),
        "access_token_lifetime",
        defaults.access_token_lifetime,
        problems,
    );
    let refresh_token_lifetime = lifetime(
        raw.refresh_token_lifetime.as_ref(),
        "refresh_token_lifetime",
        defaults.refresh_token_lifetime,
        problems,
    );
    MetadataDocuments {
        allow,
        allowed_scopes,
        grant_types,
        access_token_lifetime,
        refresh_token_lifetime,
        require_dpop: raw.require_dpop.unwrap_or(false),
    }
}

fn lifetime(
    value: Option<&RawDuration>,
    key: &str,
    default: Duration,
    problems: &mut Problems<'_>,
) -> Duration {
    match value {
        None => default,
        Some(d) => duration::parse(d).unwrap_or_else(|e| {
            problems.add(format!("{AT}.{key}"), e);
            default
        }),
    }
}
