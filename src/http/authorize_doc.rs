//! The browser flow's endpoints in the OpenAPI document:
//! `GET|POST /connect/authorize`, the sign-in and consent forms' posts,
//! and `GET /connect/endsession`. They are plain poem endpoints (they
//! answer with HTML pages and redirects, which the core decides), so
//! their operations are described here.

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::payload::Html;
use poem_openapi::registry::{
    MetaApi, MetaOperation, MetaOperationParam, MetaParamIn, MetaPath, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::ApiTags;

/// What the authorization endpoint answers.
#[derive(ApiResponse)]
pub enum AuthorizeResponses {
    /// The sign-in or consent page.
    #[oai(status = 200)]
    Page(
        Html<String>,
        /// `no-store`
        #[oai(header = "Cache-Control")]
        String,
        /// Nothing but the page's own style; no framing; forms post to
        /// tollgate (and lead on to the client's redirect URI).
        #[oai(header = "Content-Security-Policy")]
        String,
    ),
    /// To the client's redirect URI with `code` (or `error`), `state` and
    /// `iss` (RFC 9207).
    #[oai(status = 303)]
    Redirect(#[oai(header = "Location")] String),
    /// A page saying what went wrong: an unknown client or a redirect URI
    /// it did not register (never redirected to). Without `[login]` in
    /// identity.toml, every request gets this status with the RFC 6749
    /// §4.1.2.1 error as JSON.
    #[oai(status = 400)]
    BadRequest(Html<String>, #[oai(header = "Cache-Control")] String),
    /// The client's `allowed_groups` do not admit the person.
    #[oai(status = 403)]
    NotAdmitted(Html<String>, #[oai(header = "Cache-Control")] String),
}

/// What the end-session endpoint answers.
#[derive(ApiResponse)]
pub enum EndSessionResponses {
    /// "You are signed out" (no valid redirect was asked for).
    #[oai(status = 200)]
    SignedOut(Html<String>, #[oai(header = "Cache-Control")] String),
    /// To the client's registered `post_logout_redirect_uri`, with `state`.
    #[oai(status = 303)]
    Redirect(#[oai(header = "Location")] String),
}

fn query(name: &str, description: &str) -> MetaOperationParam {
    MetaOperationParam {
        name: name.into(),
        schema: String::schema_ref(),
        in_type: MetaParamIn::Query,
        description: Some(description.into()),
        required: false,
        deprecated: false,
        explode: true,
        style: None,
    }
}

fn operation(
    method: Method,
    summary: &'static str,
    description: &'static str,
    id: &'static str,
    params: Vec<MetaOperationParam>,
    responses: poem_openapi::registry::MetaResponses,
) -> MetaOperation {
    MetaOperation {
        method,
        tags: vec![ApiTags::OAuth.name()],
        summary: Some(summary),
        description: Some(description),
        external_docs: None,
        params,
        request: None,
        responses,
        deprecated: false,
        security: Vec::new(),
        operation_id: Some(id),
        code_samples: Vec::new(),
    }
}

/// Documents the browser flow; `authorize`, `signin`, `consent` and
/// `endsession` serve it.
pub(super) struct AuthorizeApi;

impl OpenApi for AuthorizeApi {
    fn meta() -> Vec<MetaApi> {
        let params = || {
            vec![
                query("response_type", "`code`, the only one."),
                query(
                    "client_id",
                    "The client; unknown: an error page, never a redirect.",
                ),
                query(
                    "redirect_uri",
                    "One the client registered (a loopback one on any port); may be left out \
                 when it registered exactly one.",
                ),
                query(
                    "scope",
                    "Space-separated scopes, each allowed to the client.",
                ),
                query("state", "Returned to the redirect URI as sent."),
                query("code_challenge", "RFC 7636 S256 challenge: required."),
                query("code_challenge_method", "`S256`: required."),
                query("nonce", "Copied into the id token."),
                query(
                    "prompt",
                    "`none`, `login`, `consent` (space separated; `none` alone).",
                ),
                query(
                    "max_age",
                    "Seconds since sign-in after which she signs in again.",
                ),
                query("login_hint", "The username to fill in."),
                query("resource", "RFC 8707 resource indicator (repeatable)."),
            ]
        };
        let authorize = |method: Method| {
            let get = method == Method::GET;
            operation(
                method,
                "Authorization endpoint",
                "The authorization code flow with PKCE (RFC 6749 §4.1, OAuth 2.1, OpenID \
                 Connect Core §3.1.2): signs the person in, asks her consent where needed, \
                 and sends the browser to the client's redirect URI with a code.",
                if get { "authorize" } else { "authorize_post" },
                params(),
                <AuthorizeResponses as ApiResponse>::meta(),
            )
        };
        let form = |summary, description, id| {
            operation(
                Method::POST,
                summary,
                description,
                id,
                Vec::new(),
                <AuthorizeResponses as ApiResponse>::meta(),
            )
        };
        let endsession = operation(
            Method::GET,
            "End session",
            "OpenID Connect RP-Initiated Logout 1.0: clears the session, then redirects \
             to a registered post_logout_redirect_uri or shows a signed-out page.",
            "endsession",
            vec![
                query(
                    "id_token_hint",
                    "An id token tollgate issued (may have expired).",
                ),
                query("client_id", "The client asking."),
                query(
                    "post_logout_redirect_uri",
                    "Registered by the client, exactly.",
                ),
                query("state", "Returned with the redirect."),
            ],
            <EndSessionResponses as ApiResponse>::meta(),
        );
        vec![MetaApi {
            paths: vec![
                MetaPath {
                    path: super::authorize::AUTHORIZE_PATH.into(),
                    operations: vec![authorize(Method::GET), authorize(Method::POST)],
                },
                MetaPath {
                    path: super::browser::SIGNIN_PATH.into(),
                    operations: vec![form(
                        "Sign-in form",
                        "The sign-in page's form (`pending`, `username`, `password`), bound \
                         to the browser's CSRF cookie.",
                        "sign_in",
                    )],
                },
                MetaPath {
                    path: super::browser::CONSENT_PATH.into(),
                    operations: vec![form(
                        "Consent form",
                        "The consent page's form (`pending`, `decision` = allow or deny).",
                        "consent",
                    )],
                },
                MetaPath {
                    path: super::endsession::ENDSESSION_PATH.into(),
                    operations: vec![endsession],
                },
            ],
        }]
    }

    fn register(registry: &mut Registry) {
        <AuthorizeResponses as ApiResponse>::register(registry);
        <EndSessionResponses as ApiResponse>::register(registry);
    }

    /// Routed outside the service, see the module's documentation.
    fn add_routes(self, _: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {}
}
