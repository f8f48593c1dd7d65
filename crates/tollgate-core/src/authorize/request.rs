//! An authorization request validated, in the order that decides where
//! its errors go: first the client and the redirect URI (either wrong: a
//! page, never a redirect, since the URI is not known to be the
//! client's), then everything else (wrong: an error at the redirect URI).

use url::Url;

use super::super::client::{Client, GrantType, redirect_uri_matches};
use super::super::grant;
use super::super::params::Params;
use super::super::ports::Context;
use super::super::refusal::Reason;
use super::super::scope::ScopeSet;
use super::decide::error_at;
use super::{Answer, AuthRequest, Prompt, RedirectError, page};

/// The longest `state` taken (it travels in the sealed form and back).
pub const MAX_STATE_LEN: usize = 1024;
/// The longest `nonce` taken.
const MAX_NONCE_LEN: usize = 512;
/// The most `resource`s one request may name.
const MAX_RESOURCES: usize = 16;

const PARAMETERS: [&str; 12] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "response_mode",
    "code_challenge",
    "code_challenge_method",
];

/// The request in `query` (a query string or a form body), validated.
pub(super) fn validate(cx: &Context<'_>, query: &[u8]) -> Result<AuthRequest, Answer> {
    // The two parameters that say where errors may go, read first: either
    // repeated is a page.
    let first = Params::parse(query, &["client_id", "redirect_uri"], &[])
        .map_err(|r| page(400, r.reason, &r.error.description))?;
    let client = first
        .get("client_id")
        .and_then(|id| cx.registry.client(id))
        .filter(|c| c.enabled)
        .ok_or_else(|| {
            page(
                400,
                Reason::UnknownClient,
                "The application that sent you here is not known to this server.",
            )
        })?;
    let (redirect_uri, sent) = redirect_uri(client, first.get("redirect_uri"))?;
    let err = |error, reason, why: &str, state: Option<&str>| {
        error_at(
            cx,
            &client.id.to_string(),
            &redirect_uri,
            state,
            error,
            reason,
            why,
        )
    };
    let params = Params::parse(query, &PARAMETERS, &["resource"]).map_err(|r| {
        err(
            RedirectError::InvalidRequest,
            r.reason,
            &r.error.description,
            None,
        )
    })?;
    let state = params.get("state");
    if state.is_some_and(|s| s.len() > MAX_STATE_LEN) {
        let why = "state is too long";
        return Err(err(
            RedirectError::InvalidRequest,
            Reason::InvalidParameter,
            why,
            None,
        ));
    }
    let invalid = |reason, why: &str| err(RedirectError::InvalidRequest, reason, why, state);
    match params.get("response_type") {
        Some("code") => {}
        None => {
            return Err(invalid(
                Reason::MissingParameter,
                "response_type is missing",
            ));
        }
        Some(_) => {
            return Err(err(
                RedirectError::UnsupportedResponseType,
                Reason::UnsupportedResponseType,
                "the only response_type is code",
                state,
            ));
        }
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(invalid(
            Reason::InvalidParameter,
            "the only response_mode is query",
        ));
    }
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(err(
            RedirectError::UnauthorizedClient,
            Reason::UnauthorizedClient,
            "the client may not use the authorization code grant",
            state,
        ));
    }
    let code_challenge = pkce(&params).map_err(|why| invalid(Reason::PkceRequired, why))?;
    let (scope, resources) = scopes(cx, client, &params)
        .map_err(|(error, reason, why)| err(error, reason, &why, state))?;
    let prompt =
        prompt(params.get("prompt")).map_err(|why| invalid(Reason::InvalidParameter, why))?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            invalid(
                Reason::InvalidParameter,
                "max_age is not a number of seconds",
            )
        })?),
    };
    let nonce = params.get("nonce");
    if nonce.is_some_and(|n| n.len() > MAX_NONCE_LEN) {
        return Err(invalid(Reason::InvalidParameter, "nonce is too long"));
    }
    let login_hint = params
        .get("login_hint")
        .filter(|h| h.len() <= super::super::people::MAX_USERNAME_LEN);
    Ok(AuthRequest {
        client_id: client.id.to_string(),
        redirect_uri,
        redirect_uri_sent: sent,
        scope,
        resources,
        state: state.map(str::to_owned),
        nonce: nonce.map(str::to_owned),
        code_challenge,
        prompt,
        max_age: max_age.map(i64::from),
        login_hint: login_hint.map(str::to_owned),
    })
}

/// The redirect URI to use: the one sent, if the client registered it (a
/// loopback one on any port, RFC 8252 §7.3), or the only one it has.
fn redirect_uri(client: &Client, sent: Option<&str>) -> Result<(String, bool), Answer> {
    let mismatch = || {
        page(
            400,
            Reason::RedirectUriMismatch,
            "The application asked to send you back to an address it has not registered.",
        )
    };
    match sent {
        Some(uri)
            if client
                .redirect_uris
                .iter()
                .any(|r| redirect_uri_matches(r, uri)) =>
        {
            Ok((uri.to_owned(), true))
        }
        Some(_) => Err(mismatch()),
        None => match client.redirect_uris.as_slice() {
            [only] => Ok((only.clone(), false)),
            _ => Err(mismatch()),
        },
    }
}

/// The S256 challenge (RFC 7636 §4.2: 43 to 128 unreserved characters).
fn pkce(params: &Params) -> Result<String, &'static str> {
    let challenge = params
        .get("code_challenge")
        .ok_or("PKCE is required: send code_challenge with code_challenge_method=S256")?;
    match params.get("code_challenge_method") {
        Some("S256") => {}
        None => return Err("code_challenge_method must be S256 (plain is its default)"),
        Some(_) => return Err("the only code_challenge_method is S256"),
    }
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if !(43..=128).contains(&challenge.len()) || !challenge.bytes().all(unreserved) {
        return Err("code_challenge must be 43 to 128 unreserved characters");
    }
    Ok(challenge.to_owned())
}

type ScopeRefusal = (RedirectError, Reason, String);

/// The scopes the code grants, and the resources: each scope one the
/// client may have; API scopes narrowed to the `resource`s (RFC 8707),
/// identity scopes kept as they are (they name no API).
fn scopes(
    cx: &Context<'_>,
    client: &Client,
    params: &Params,
) -> Result<(String, Vec<String>), ScopeRefusal> {
    let requested =
        grant::requested_scopes(cx.registry, client, params.get("scope")).map_err(|r| {
            let reason = match r.reason {
                Reason::ScopeNotAllowed | Reason::UnknownScope => r.reason,
                _ => Reason::InvalidScope,
            };
            (
                RedirectError::InvalidScope,
                reason,
                r.error.description.into_owned(),
            )
        })?;
    let resources: Vec<&str> = params.all("resource").collect();
    if resources.len() > MAX_RESOURCES {
        let why = format!("at most {MAX_RESOURCES} resources may be named");
        return Err((RedirectError::InvalidRequest, Reason::InvalidParameter, why));
    }
    if let Some(bad) = resources
        .iter()
        .find(|r| Url::parse(r).map_or(true, |u| u.fragment().is_some()))
    {
        let why = format!("resource {bad} is not an absolute URI without a fragment");
        return Err((RedirectError::InvalidTarget, Reason::InvalidTarget, why));
    }
    let identity =
        |s: &&super::super::scope::ScopeToken| cx.registry.identity_scope(s.as_str()).is_some();
    let api: ScopeSet = requested.iter().filter(|s| !identity(s)).cloned().collect();
    let granted_api = if resources.is_empty() {
        api
    } else {
        grant::narrowed(cx.registry, &api, &resources, true)
            .map_err(|e| {
                (
                    RedirectError::InvalidTarget,
                    Reason::InvalidTarget,
                    e.description.into_owned(),
                )
            })?
            .0
    };
    let scope: ScopeSet = requested
        .iter()
        .filter(|s| identity(s) || granted_api.contains(s))
        .cloned()
        .collect();
    Ok((
        scope.to_string(),
        resources.iter().map(|r| (*r).to_owned()).collect(),
    ))
}

/// `prompt`: a space-separated set of `none`, `login`, `consent` (and
/// `select_account`, which one account per browser always satisfies);
/// `none` with any other is an error (OpenID Connect Core §3.1.2.1).
fn prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    let mut others = false;
    for v in value
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => others = true,
            _ => return Err("prompt may hold only none, login, consent and select_account"),
        }
    }
    if prompt.none && (prompt.login || prompt.consent || others) {
        return Err("prompt=none may not be combined with another value");
    }
    Ok(prompt)
}
