//! A valid authorization request decided with the browser session: sign
//! in (no session, `prompt=login`, `max_age` past), a page when the
//! client's `allowed_groups` do not admit her, consent (the client
//! requires it, or `prompt=consent`, and she has not given it for these
//! scopes in this session), else a code at the redirect URI. With
//! `prompt=none`, whatever would need her is an error at the redirect URI
//! instead (OpenID Connect Core §3.1.2.6). Also the answers themselves:
//! pages, redirects with an error or a code.

use url::Url;

use super::super::code::{CODE_LIFETIME, CodeGrant};
use super::super::ports::Context;
use super::super::refusal::Reason;
use super::super::sealed::Purpose;
use super::super::session::{Open, random_id};
use super::pending;
use super::{Answer, AuthRequest, ConsentForm, RedirectError, SignInForm, page};

/// What the sign-in or consent that led here just did.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Fresh {
    /// She signed in a moment ago: `prompt=login` and `max_age` hold.
    pub(super) signed_in: bool,
    /// She consented a moment ago: `prompt=consent` holds.
    pub(super) consented: bool,
}

/// The page for a server without sign-in or a sealing key.
pub(super) const NO_LOGIN: &str = "Signing in is not available on this server.";

pub(super) fn decide(
    cx: &Context<'_>,
    req: &AuthRequest,
    open: Option<&Open>,
    fresh: Fresh,
    csrf: &str,
) -> Answer {
    let Some(client) = cx.registry.client(&req.client_id).filter(|c| c.enabled) else {
        return page(
            400,
            Reason::UnknownClient,
            "The application is no longer known here.",
        );
    };
    let now = cx.now.unix_timestamp();
    let signed_in = open.filter(|o| {
        fresh.signed_in
            || (!req.prompt.login
                && req
                    .max_age
                    .is_none_or(|age| now - o.session.auth_time <= age))
    });
    let Some(open) = signed_in else {
        if req.prompt.none {
            return error(
                cx,
                req,
                RedirectError::LoginRequired,
                Reason::LoginRequired,
                "sign-in is required",
            );
        }
        return sign_in_form(cx, req, csrf);
    };
    if !open.user.admitted_by(&client.allowed_groups) {
        return Answer::NotAdmitted {
            client: client.clone(),
            sub: open.session.sub.clone(),
        };
    }
    let asked = client.require_consent || req.prompt.consent;
    let given = fresh.consented
        || (!req.prompt.consent && open.session.consented(&req.client_id, &req.scope));
    if asked && !given {
        if req.prompt.none {
            return error(
                cx,
                req,
                RedirectError::ConsentRequired,
                Reason::ConsentRequired,
                "consent is required",
            );
        }
        let Some(pending) = pending::seal(cx, req, csrf) else {
            return page(500, Reason::Internal, NO_LOGIN);
        };
        return Answer::Consent(Box::new(ConsentForm {
            pending,
            client: client.clone(),
            redirect_host: Url::parse(&req.redirect_uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            scopes: req
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| shown_scope(cx, s))
                .collect(),
            redirect_origin: origin(&req.redirect_uri),
            sub: open.session.sub.clone(),
        }));
    }
    code(cx, req, open)
}

/// A scope as the consent page names it.
fn shown_scope(cx: &Context<'_>, name: &str) -> String {
    let identity = cx
        .registry
        .identity_scope(name)
        .and_then(|s| s.display_name.clone());
    let api = || {
        cx.registry
            .scopes()
            .iter()
            .find(|s| s.name.as_str() == name)
            .and_then(|s| s.display_name.clone())
    };
    identity.or_else(api).unwrap_or_else(|| name.to_owned())
}

/// The code, sealed, at the redirect URI.
fn code(cx: &Context<'_>, req: &AuthRequest, open: &Open) -> Answer {
    let Some(key) = cx.sealing else {
        return page(500, Reason::Internal, NO_LOGIN);
    };
    let Some(client) = cx.registry.client(&req.client_id) else {
        return page(
            400,
            Reason::UnknownClient,
            "The application is no longer known here.",
        );
    };
    let grant = CodeGrant {
        id: random_id(),
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        sub: open.session.sub.clone(),
        auth_time: open.session.auth_time,
        scope: req.scope.clone(),
        resources: req.resources.clone(),
        nonce: req.nonce.clone(),
        exp: cx.now.unix_timestamp() + CODE_LIFETIME,
        // A provider's person: her claims as copied at sign-in.
        claims: open.session.claims.clone(),
        sid: Some(open.session.sid.clone()),
    };
    let sealed = key.seal(Purpose::Code, &grant);
    Answer::Code {
        location: with_params(
            cx,
            &req.redirect_uri,
            req.state.as_deref(),
            &[("code", &sealed)],
        ),
        client: client.clone(),
        sub: open.session.sub.clone(),
    }
}

/// The sign-in page for `req`.
pub(super) fn sign_in_form(cx: &Context<'_>, req: &AuthRequest, csrf: &str) -> Answer {
    let Some(client) = cx.registry.client(&req.client_id) else {
        return page(
            400,
            Reason::UnknownClient,
            "The application is no longer known here.",
        );
    };
    let Some(pending) = pending::seal(cx, req, csrf) else {
        return page(500, Reason::Internal, NO_LOGIN);
    };
    Answer::SignIn(Box::new(SignInForm {
        pending,
        client: client.clone(),
        login_hint: req.login_hint.clone(),
        failed: None,
        redirect_origin: origin(&req.redirect_uri),
    }))
}

/// An error at the request's redirect URI.
pub(super) fn error(
    cx: &Context<'_>,
    req: &AuthRequest,
    error: RedirectError,
    reason: Reason,
    why: &str,
) -> Answer {
    error_at(
        cx,
        &req.client_id,
        &req.redirect_uri,
        req.state.as_deref(),
        error,
        reason,
        why,
    )
}

/// An error at `redirect_uri` (RFC 6749 §4.1.2.1), with `state` and `iss`.
pub(super) fn error_at(
    cx: &Context<'_>,
    client_id: &str,
    redirect_uri: &str,
    state: Option<&str>,
    error: RedirectError,
    reason: Reason,
    why: &str,
) -> Answer {
    let params = [("error", error.as_str()), ("error_description", why)];
    Answer::Error {
        location: with_params(cx, redirect_uri, state, &params),
        error,
        reason,
        client_id: client_id.to_owned(),
    }
}

/// `uri` with `params`, `state` (if sent) and `iss` (RFC 9207) added to
/// its query, which it keeps (RFC 6749 §3.1.2).
fn with_params(
    cx: &Context<'_>,
    uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> String {
    let Ok(mut url) = Url::parse(uri) else {
        return uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", cx.issuer);
    }
    url.to_string()
}

/// The origin of `uri` (scheme, host, port), as CSP names a source.
fn origin(uri: &str) -> String {
    Url::parse(uri).map_or_else(|_| String::new(), |u| u.origin().ascii_serialization())
}
