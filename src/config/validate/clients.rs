//! One `[[clients]]` entry: its id, grant types, scopes, lifetime,
//! claims, and every way it may authenticate (secrets, keys, federation).

use std::path::Path;
use std::time::Duration;

use super::super::duration;
use super::super::problems::{Problems, parse_datetime};
use super::super::raw::RawClient;
use super::code_flow;
use super::exchange;
use super::federation;
use super::values::{known_scopes, secrets};
use tollgate_core::{
    ApiResource, CertificateRule, Client, ClientId, DistinguishedName, GrantType, ScopeSet,
    SubjectPattern, TrustedIssuer,
};

/// Claims tollgate sets itself; a client's extra claims may not replace them.
pub(crate) const REGISTERED_CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "cnf",
    // RFC 8693 §4.1: who acts for the subject (token exchange). `may_act`
    // stays a client's to set: it says who may exchange its tokens.
    "act",
    // RFC 9493: the trusted issuer's subject of an exchanged token.
    "sub_id",
];

const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// What validating a client needs from the rest of the file.
pub(super) struct ClientContext<'a> {
    /// The scopes a client may be allowed: API scopes and identity scopes.
    pub declared: &'a ScopeSet,
    /// The identity scopes among them.
    pub identity: &'a ScopeSet,
    pub issuers: &'a [TrustedIssuer],
    pub resources: &'a [ApiResource],
    pub base: &'a Path,
    /// `[[login.providers]]`, which `login_providers` names.
    pub providers: &'a [super::providers::ProviderSettings],
}

/// One `[[clients]]` entry, validated; `None` if it has a problem.
pub(super) fn client(
    c: &RawClient,
    i: usize,
    cx: &ClientContext<'_>,
    problems: &mut Problems<'_>,
) -> Option<Client> {
    let at = |k: &str| format!("clients[{i}].{k}");
    let before = problems.len();
    let id = c
        .client_id
        .parse::<ClientId>()
        .map_err(|e| problems.add(at("client_id"), e))
        .ok();
    let grant_types = grant_types(
        c.allowed_grant_types.as_deref(),
        &at("allowed_grant_types"),
        problems,
    );
    let allowed_scopes = known_scopes(
        &c.allowed_scopes,
        &at("allowed_scopes"),
        cx.declared,
        problems,
    );
    let access_token_lifetime = match &c.access_token_lifetime {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(d) => duration::parse(d).unwrap_or_else(|e| {
            problems.add(at("access_token_lifetime"), e);
            DEFAULT_TOKEN_LIFETIME
        }),
    };
    let mut claims = serde_json::Map::new();
    for (name, value) in &c.claims {
        if REGISTERED_CLAIMS.contains(&name.as_str()) {
            problems.add(
                format!("{}.{name}", at("claims")),
                format!("claim {name:?} is set by tollgate itself and cannot be overridden"),
            );
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
    let secrets = secrets(&c.secrets, &at("secrets"), problems);
    let keys = federation::key_source(
        c.jwks.as_ref(),
        c.jwks_uri.as_deref(),
        c.jwks_file.as_deref(),
        &at,
        cx.base,
        problems,
    );
    let federated = federation::rules(&c.federated, &at, cx.issuers, problems);
    copied_names(c, &at, problems);
    let token_exchange = exchange::rules(
        &c.token_exchange,
        &grant_types,
        &at,
        cx.issuers,
        cx.resources,
        problems,
    );
    let certificate = certificate_rule(c, &at, problems);
    let people = code_flow::settings(c, &grant_types, cx.identity, &at, problems);
    let login_providers = c.login_providers.as_ref().map(|names| {
        super::providers::client_providers(names, cx.providers, &at("login_providers"), problems)
    });
    let self_signed_certificate = c.self_signed_tls_client_auth.unwrap_or(false);
    if self_signed_certificate && matches!(keys, tollgate_core::KeySource::None) {
        problems.add(
            at("self_signed_tls_client_auth"),
            "self_signed_tls_client_auth needs the client's keys: set jwks, jwks_uri or jwks_file",
        );
    }
    if cx.issuers.iter().any(|t| t.issuer == c.client_id) {
        problems.add(
            at("client_id"),
            "a client id may not be a trusted issuer's issuer: assertions it signs would be the platform's",
        );
    }
    let tokens_valid_after = match &c.tokens_valid_after {
        None => None,
        Some(raw) => parse_datetime(raw)
            .map_err(|e| problems.add(at("tokens_valid_after"), e))
            .ok(),
    };
    if problems.len() > before {
        return None;
    }
    Some(Client {
        id: id?,
        grant_types,
        allowed_scopes,
        access_token_lifetime,
        enabled: c.enabled.unwrap_or(true),
        claims,
        secrets,
        keys,
        federated,
        require_dpop: c.require_dpop.unwrap_or(false),
        tokens_valid_after,
        token_exchange,
        certificate,
        self_signed_certificate,
        display_name: people.display_name,
        public: people.public,
        redirect_uris: people.redirect_uris,
        post_logout_redirect_uris: people.post_logout_redirect_uris,
        backchannel_logout_uri: people.backchannel_logout_uri,
        require_consent: people.require_consent,
        refresh_token_lifetime: people.refresh_token_lifetime,
        allowed_groups: people.allowed_groups,
        login_providers,
        document: None,
    })
}

/// `copy_claims` names: never a registered claim, nor one of the client's
/// own `claims` (the token would hold the name twice).
fn copied_names(c: &RawClient, at: &dyn Fn(&str) -> String, problems: &mut Problems<'_>) {
    for (k, rule) in c.federated.iter().enumerate() {
        for name in rule.copy_claims.keys() {
            let here = || at(&format!("federated[{k}].copy_claims.{name}"));
            if REGISTERED_CLAIMS.contains(&name.as_str()) {
                problems.add(
                    here(),
                    format!("claim {name:?} is set by tollgate itself and cannot be copied into"),
                );
            } else if c.claims.contains_key(name) {
                problems.add(
                    here(),
                    format!("claim {name:?} is also one of the client's claims; give one source"),
                );
            }
        }
    }
}

/// The one certificate rule of a client (RFC 8705 §2.1.2: a client
/// registers one of them), or none.
fn certificate_rule(
    c: &RawClient,
    at: &dyn Fn(&str) -> String,
    problems: &mut Problems<'_>,
) -> Option<CertificateRule> {
    let set: Vec<&str> = [
        (
            "tls_client_auth_subject_dn",
            c.tls_client_auth_subject_dn.is_some(),
        ),
        (
            "tls_client_auth_san_dns",
            c.tls_client_auth_san_dns.is_some(),
        ),
        (
            "tls_client_auth_san_uri",
            c.tls_client_auth_san_uri.is_some(),
        ),
        (
            "self_signed_tls_client_auth",
            c.self_signed_tls_client_auth == Some(true),
        ),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if let [first, second, ..] = set.as_slice() {
        problems.add(
            at(second),
            format!("a client has one certificate rule, but {first} and {second} are both set"),
        );
        return None;
    }
    if let Some(dn) = &c.tls_client_auth_subject_dn {
        return DistinguishedName::parse(dn)
            .map(CertificateRule::SubjectDn)
            .map_err(|e| problems.add(at("tls_client_auth_subject_dn"), e))
            .ok();
    }
    if let Some(dns) = &c.tls_client_auth_san_dns {
        if dns.is_empty() || dns.contains('*') || dns.contains(char::is_whitespace) {
            problems.add(
                at("tls_client_auth_san_dns"),
                format!("{dns:?} is not a DNS name (no wildcards: name the client's own)"),
            );
            return None;
        }
        return Some(CertificateRule::SanDns(dns.to_ascii_lowercase()));
    }
    let uri = c.tls_client_auth_san_uri.as_deref()?;
    let path = at("tls_client_auth_san_uri");
    if uri.trim_matches('*').is_empty() {
        problems.add(
            path,
            "a URI SAN pattern of `*` alone would let any certificate in; name the URI",
        );
        return None;
    }
    if !uri.starts_with("spiffe://") {
        if uri.contains('*') || url::Url::parse(uri).is_err() {
            problems.add(
                path,
                format!("{uri:?} is not an absolute URI (`*` is allowed only in the path of a spiffe:// ID)"),
            );
            return None;
        }
        return Some(CertificateRule::SanUri(SubjectPattern::Exact(
            uri.to_owned(),
        )));
    }
    if tollgate_core::spiffe::parse_pattern(uri).is_none() {
        problems.add(
            path,
            format!(
                "{uri:?} is not a SPIFFE ID: spiffe://TRUST-DOMAIN/PATH, the trust domain named in full \
                 (lowercase letters, digits, '.', '-', '_'), each path segment letters, digits, '.', '-' \
                 or '_' (not empty, '.' or '..'), `*` within a segment; no port, query or fragment"
            ),
        );
        return None;
    }
    // `*` stands within one segment: `ns/*/sa/api` never takes
    // `ns/team/evil/sa/api`.
    SubjectPattern::within_segments(uri)
        .map(CertificateRule::SanUri)
        .map_err(|e| problems.add(at("tls_client_auth_san_uri"), e))
        .ok()
}

pub(super) fn grant_types(
    names: Option<&[String]>,
    path: &str,
    problems: &mut Problems<'_>,
) -> Vec<GrantType> {
    let Some(names) = names else {
        return vec![GrantType::ClientCredentials];
    };
    let supported: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    names
        .iter()
        .enumerate()
        .filter_map(|(j, g)| match g.parse::<GrantType>() {
            Ok(g) => Some(g),
            Err(()) => {
                problems.add(
                    format!("{path}[{j}]"),
                    format!(
                        "grant type {g:?} is not supported (supported: {})",
                        supported.join(", ")
                    ),
                );
                None
            }
        })
        .collect()
}
