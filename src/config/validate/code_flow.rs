//! A client's settings for people (the authorization code grant): public
//! or confidential, redirect URIs, refresh tokens, consent, the groups it
//! admits; and the rules that tie them to its grant types and scopes.

use std::time::Duration;

use super::super::duration;
use super::super::problems::Problems;
use super::super::raw::RawClient;
use super::values::group_name;
use tollgate_core::people::OFFLINE_ACCESS;
use tollgate_core::{DEFAULT_REFRESH_TOKEN_LIFETIME, GrantType, ScopeSet, ScopeToken};

/// What a client's people settings validate to.
pub(super) struct CodeFlow {
    pub display_name: Option<String>,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<url::Url>,
    pub require_consent: bool,
    pub refresh_token_lifetime: Duration,
    pub allowed_groups: Vec<String>,
}

/// The grants a public client may use: those a person starts.
const PUBLIC_GRANTS: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];

/// The settings of client `c`, whose grant types are `grants`; every rule
/// broken is a problem at `at(key)`.
pub(super) fn settings(
    c: &RawClient,
    grants: &[GrantType],
    identity: &ScopeSet,
    at: &dyn Fn(&str) -> String,
    problems: &mut Problems<'_>,
) -> CodeFlow {
    let public = c.public.unwrap_or(false);
    let code = grants.contains(&GrantType::AuthorizationCode);
    let refresh = grants.contains(&GrantType::RefreshToken);
    if public {
        for credential in credentials(c) {
            problems.add_hinted(
                at(credential),
                "a public client has no credential: it sends only its client_id",
                Some("remove it, or set public = false for a confidential client"),
            );
        }
        public_grants(c, at, problems);
    } else if code && credentials(c).is_empty() {
        problems.add_hinted(
            at("allowed_grant_types"),
            "a confidential client of authorization_code needs a credential to redeem its codes",
            Some("add [[clients.secrets]] (or keys, or a certificate rule), or set public = true for a browser or native app"),
        );
    }
    if refresh && !code {
        problems.add(
            at("allowed_grant_types"),
            "refresh_token needs authorization_code: refresh tokens come only with a person's sign-in",
        );
    }
    if code && c.redirect_uris.is_empty() {
        problems.add_hinted(
            at("redirect_uris"),
            "authorization_code needs at least one redirect URI to send codes to",
            Some("redirect_uris = [\"https://app.example.com/callback\"]"),
        );
    }
    // Claims about a person come only with her sign-in: a client that no
    // person signs in to would hold identity scopes for nothing.
    let first_identity = c
        .allowed_scopes
        .iter()
        .position(|s| s.parse::<ScopeToken>().is_ok_and(|s| identity.contains(&s)));
    if let Some(j) = first_identity
        && !code
    {
        problems.add_hinted(
            format!("{}[{j}]", at("allowed_scopes")),
            format!(
                "{} is an identity scope, granted only when a person signs in, which this client cannot do without authorization_code",
                c.allowed_scopes[j]
            ),
            Some("add \"authorization_code\" to allowed_grant_types, or remove the identity scopes"),
        );
    } else if let Some(j) = c.allowed_scopes.iter().position(|s| s == OFFLINE_ACCESS)
        && !refresh
    {
        problems.add_hinted(
            format!("{}[{j}]", at("allowed_scopes")),
            "offline_access asks for a refresh token, which this client cannot use without the refresh_token grant",
            Some("add \"refresh_token\" to allowed_grant_types, or remove offline_access"),
        );
    }
    for (key, uris) in [
        ("redirect_uris", &c.redirect_uris),
        ("post_logout_redirect_uris", &c.post_logout_redirect_uris),
    ] {
        for (j, uri) in uris.iter().enumerate() {
            if let Err(e) = redirect_uri(uri) {
                problems.add(format!("{}[{j}]", at(key)), e);
            }
        }
    }
    let backchannel_logout_uri = c.backchannel_logout_uri.as_deref().and_then(|uri| {
        if !code {
            problems.add_hinted(
                at("backchannel_logout_uri"),
                "backchannel_logout_uri needs authorization_code: only a person's sign-in is signed out of",
                Some("add \"authorization_code\" to allowed_grant_types, or remove backchannel_logout_uri"),
            );
            return None;
        }
        logout_uri(uri)
            .map_err(|e| {
                problems.add_hinted(
                    at("backchannel_logout_uri"),
                    e,
                    Some("backchannel_logout_uri = \"https://app.example.com/backchannel-logout\""),
                )
            })
            .ok()
    });
    for (j, group) in c.allowed_groups.iter().enumerate() {
        if let Err(e) = group_name(group) {
            problems.add(format!("{}[{j}]", at("allowed_groups")), e);
        }
    }
    let refresh_token_lifetime = match &c.refresh_token_lifetime {
        None => DEFAULT_REFRESH_TOKEN_LIFETIME,
        Some(d) => duration::parse(d).unwrap_or_else(|e| {
            problems.add(at("refresh_token_lifetime"), e);
            DEFAULT_REFRESH_TOKEN_LIFETIME
        }),
    };
    CodeFlow {
        display_name: c.display_name.clone(),
        public,
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        backchannel_logout_uri,
        require_consent: c.require_consent.unwrap_or(false),
        refresh_token_lifetime,
        allowed_groups: c.allowed_groups.clone(),
    }
}

/// The keys of `c` that give it a credential.
fn credentials(c: &RawClient) -> Vec<&'static str> {
    [
        ("secrets", !c.secrets.is_empty()),
        ("jwks", c.jwks.is_some()),
        ("jwks_uri", c.jwks_uri.is_some()),
        ("jwks_file", c.jwks_file.is_some()),
        ("federated", !c.federated.is_empty()),
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
    .filter_map(|(key, set)| set.then_some(key))
    .collect()
}

/// A public client may use only the grants a person starts: a grant it
/// could use alone would hand tokens to anyone who knows its id.
fn public_grants(c: &RawClient, at: &dyn Fn(&str) -> String, problems: &mut Problems<'_>) {
    let message = |g: &str| {
        format!(
            "a public client may use only authorization_code and refresh_token, not {g}: it has no credential"
        )
    };
    match &c.allowed_grant_types {
        // The default is client_credentials.
        None => problems.add_hinted(
            at("allowed_grant_types"),
            message("client_credentials (the default)"),
            Some("allowed_grant_types = [\"authorization_code\", \"refresh_token\"]"),
        ),
        Some(names) => {
            for (j, name) in names.iter().enumerate() {
                // An unknown grant type is already a problem of its own.
                if name
                    .parse::<GrantType>()
                    .is_ok_and(|g| !PUBLIC_GRANTS.contains(&g))
                {
                    problems.add(format!("{}[{j}]", at("allowed_grant_types")), message(name));
                }
            }
        }
    }
}

/// A redirect URI (or a post-logout one): absolute, http or https, a
/// host, no fragment (RFC 6749 §3.1.2).
fn redirect_uri(text: &str) -> Result<(), String> {
    let url =
        url::Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{text:?} must be an https (or http) URL"));
    }
    if url.host().is_none() {
        return Err(format!("{text:?} has no host"));
    }
    if url.fragment().is_some() {
        return Err(format!(
            "{text:?} has a fragment; a redirect URI may not (RFC 6749 §3.1.2)"
        ));
    }
    Ok(())
}

/// A `backchannel_logout_uri`: absolute, https or http to a loopback host
/// (a logout token is a bearer of her session's end), no fragment
/// (Back-Channel Logout 1.0 §2.2).
fn logout_uri(text: &str) -> Result<url::Url, String> {
    let url =
        url::Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if url.host().is_some() && !http_beyond_loopback(text) => {}
        "http" => {
            return Err(format!(
                "{text:?} is plain http beyond loopback: logout tokens must travel over https"
            ));
        }
        _ => return Err(format!("{text:?} must be an https URL with a host")),
    }
    if url.fragment().is_some() {
        return Err(format!(
            "{text:?} has a fragment; a back-channel logout URI may not (Back-Channel Logout §2.2)"
        ));
    }
    Ok(url)
}

/// Whether `uri` is http to a host beyond loopback: allowed for
/// development, but codes then travel in the clear.
pub(super) fn http_beyond_loopback(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    url.scheme() == "http"
        && !match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}
