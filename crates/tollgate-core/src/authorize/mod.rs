//! The authorization endpoint (RFC 6749 §4.1, OAuth 2.1, OpenID Connect
//! Core §3.1.2) as the core decides it: the request validated
//! (`request`), then decided with the browser session (`decide`): sign
//! in, consent, a page saying she is not admitted, or a code at the
//! redirect URI. The sign-in and consent forms carry the validated request
//! sealed (`pending`), so no server keeps it between the pages.
//!
//! What the person sees is an [`Answer`]; the HTTP adapter renders it and
//! sets or clears the session cookie as [`Outcome::session`] says. An
//! unknown client or a redirect URI that is not the client's gets a page,
//! never a redirect (RFC 6749 §4.1.2.1); every other error goes to the
//! redirect URI with `state` and `iss` (RFC 9207).

mod decide;
pub mod pending;
mod request;
pub mod upstream;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::client::Client;
use super::params::Params;
use super::ports::{Context, Ports};
use super::refusal::Reason;
use super::session::{Lapsed, Session, SessionChange};
use super::signin::{self, PresentedPassword};

pub(crate) use super::client::redirect_uri_matches as redirect_matches;
pub use request::MAX_STATE_LEN;

/// The error codes an authorization response carries to the redirect URI
/// (RFC 6749 §4.1.2.1, RFC 8707 §2, OpenID Connect Core §3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectError {
    InvalidRequest,
    UnauthorizedClient,
    /// She denied the request on the consent page.
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    ServerError,
    /// `prompt=none`, and she would have to sign in.
    LoginRequired,
    /// `prompt=none`, and she would have to consent.
    ConsentRequired,
}

impl RedirectError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
        }
    }
}

/// `prompt` (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// An authorization request that passed validation: what the code will
/// be for. Sealed into the sign-in and consent forms as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    /// As sent (or the one registered, when the request named none).
    pub redirect_uri: String,
    /// Whether the request named it: the token request must then name it
    /// too (RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// The scopes the code will grant, space separated: the identity
    /// scopes asked for and the API scopes, narrowed to the resources.
    pub scope: String,
    pub resources: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// What the person sees.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A page of tollgate's saying what went wrong; never a redirect.
    Page {
        status: u16,
        reason: Reason,
        message: String,
    },
    /// To the redirect URI with a code.
    Code {
        location: String,
        client: Arc<Client>,
        sub: String,
    },
    /// To the redirect URI with an error.
    Error {
        location: String,
        error: RedirectError,
        reason: Reason,
        client_id: String,
    },
    SignIn(Box<SignInForm>),
    Consent(Box<ConsentForm>),
    /// Signed in, but the client's `allowed_groups` do not admit her.
    NotAdmitted {
        client: Arc<Client>,
        sub: String,
    },
}

/// The sign-in page's content.
#[derive(Debug, Clone)]
pub struct SignInForm {
    /// The sealed request, for the form's hidden field.
    pub pending: String,
    pub client: Arc<Client>,
    /// The username to fill in.
    pub login_hint: Option<String>,
    /// The failed attempt's message, and why (audit only).
    pub failed: Option<signin::SignInFailure>,
    /// The origin of the redirect URI: where the form's answer may send
    /// the browser (the page's CSP `form-action`).
    pub redirect_origin: String,
}

/// The consent page's content.
#[derive(Debug, Clone)]
pub struct ConsentForm {
    pub pending: String,
    pub client: Arc<Client>,
    /// The host of the redirect URI, shown prominently.
    pub redirect_host: String,
    /// Each scope's display name (or its name).
    pub scopes: Vec<String>,
    pub redirect_origin: String,
    pub sub: String,
}

/// An answer and what becomes of the session cookie.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub answer: Answer,
    pub session: SessionChange,
}

/// A page of tollgate's.
fn page(status: u16, reason: Reason, message: &str) -> Answer {
    Answer::Page {
        status,
        reason,
        message: message.to_owned(),
    }
}

/// The authorization endpoint (GET or POST, wherever the adapter serves
/// it): `params` the query or the form, `cookie`
/// the session cookie, `csrf` the value the browser's CSRF cookie holds
/// (or the one the adapter is about to set).
pub fn start(cx: &Context<'_>, params: &[u8], cookie: Option<&str>, csrf: &str) -> Outcome {
    let (open, session) = match Session::open(cx, cookie) {
        Ok(open) => (open, SessionChange::Keep),
        Err(Lapsed) => (None, SessionChange::Clear),
    };
    let answer = match request::validate(cx, params) {
        Ok(req) => decide::decide(cx, &req, open.as_ref(), decide::Fresh::default(), csrf),
        Err(answer) => answer,
    };
    match open {
        Some(open) => settled(cx, answer, open.session, false),
        None => Outcome { answer, session },
    }
}

/// `answer`, given in `session`: a code records its client in the session
/// (signing out tells the clients it names), and the cookie is set again
/// when it changed, or always when `set` (a session just begun or just
/// given a consent).
fn settled(cx: &Context<'_>, answer: Answer, mut session: Session, set: bool) -> Outcome {
    let recorded = match &answer {
        Answer::Code { client, .. } => session.signed_in_to(client.id.as_str()),
        _ => false,
    };
    let session = match (set || recorded).then(|| session.seal(cx)).flatten() {
        Some(sealed) => SessionChange::Set(sealed),
        None => SessionChange::Keep,
    };
    Outcome { answer, session }
}

/// The sign-in form, posted: `pending`, `username`, `password`.
pub async fn sign_in<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    form: &[u8],
    csrf: Option<&str>,
) -> Outcome {
    let keep = |answer| Outcome {
        answer,
        session: SessionChange::Keep,
    };
    if cx.registry.login().is_none() {
        return keep(page(400, Reason::PendingInvalid, decide::NO_LOGIN));
    }
    let mut params = match Params::parse(form, &["pending", "username", "password"], &[]) {
        Ok(p) => p,
        Err(r) => return keep(page(400, r.reason, "The form was sent twice over.")),
    };
    let (req, csrf) = match pending::open(cx, params.get("pending"), csrf) {
        Ok(found) => found,
        Err(answer) => return keep(answer),
    };
    let username = params.take("username").unwrap_or_default();
    let password = PresentedPassword::new(params.take("password").unwrap_or_default());
    match signin::sign_in(cx, ports, &username, password).await {
        Ok(user) => {
            let Some(session) = Session::new(cx, &user) else {
                return keep(page(500, Reason::Internal, decide::NO_LOGIN));
            };
            let open = super::session::Open { session, user };
            let fresh = decide::Fresh {
                signed_in: true,
                consented: false,
            };
            let answer = decide::decide(cx, &req, Some(&open), fresh, &csrf);
            settled(cx, answer, open.session, true)
        }
        Err(failure) => {
            let mut answer = decide::sign_in_form(cx, &req, &csrf);
            if let Answer::SignIn(form) = &mut answer {
                form.failed = Some(failure);
                if !username.is_empty() && username.len() <= 255 {
                    form.login_hint = Some(username);
                }
            }
            keep(answer)
        }
    }
}

/// The consent form, posted: `pending` and `decision` (`allow` or
/// `deny`), in the session that asked.
pub fn consent(cx: &Context<'_>, form: &[u8], cookie: Option<&str>, csrf: Option<&str>) -> Outcome {
    let keep = |answer| Outcome {
        answer,
        session: SessionChange::Keep,
    };
    if cx.registry.login().is_none() {
        return keep(page(400, Reason::PendingInvalid, decide::NO_LOGIN));
    }
    let params = match Params::parse(form, &["pending", "decision"], &[]) {
        Ok(p) => p,
        Err(r) => return keep(page(400, r.reason, "The form was sent twice over.")),
    };
    let (req, csrf) = match pending::open(cx, params.get("pending"), csrf) {
        Ok(found) => found,
        Err(answer) => return keep(answer),
    };
    let open = match Session::open(cx, cookie) {
        Ok(Some(open)) => open,
        // Signed out (or revoked) between the pages: sign in again.
        Ok(None) => return keep(decide::sign_in_form(cx, &req, &csrf)),
        Err(Lapsed) => {
            return Outcome {
                answer: decide::sign_in_form(cx, &req, &csrf),
                session: SessionChange::Clear,
            };
        }
    };
    match params.get("decision") {
        Some("allow") => {
            let mut open = open;
            open.session.consent(&req.client_id, &req.scope);
            let fresh = decide::Fresh {
                signed_in: false,
                consented: true,
            };
            let answer = decide::decide(cx, &req, Some(&open), fresh, &csrf);
            settled(cx, answer, open.session, true)
        }
        Some("deny") => keep(decide::error(
            cx,
            &req,
            RedirectError::AccessDenied,
            Reason::AccessDenied,
            "the person denied the request",
        )),
        _ => keep(page(
            400,
            Reason::InvalidParameter,
            "The consent form was sent without a decision.",
        )),
    }
}
