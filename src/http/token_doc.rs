//! `POST /connect/token` in the OpenAPI document. The endpoint itself is a
//! plain poem endpoint in front of the OpenAPI service (the hot path:
//! poem-openapi's per-request layers cost 10–12 % of token throughput), so
//! its operation is described here, from the very types it sends
//! ([`TokenBody`], [`ErrorBody`]); `tests/it/openapi.rs` checks the
//! document against real responses.

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::payload::Json;
use poem_openapi::registry::{
    MetaApi, MetaMediaType, MetaOperation, MetaPath, MetaRequest, MetaSecurityScheme, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

use super::ApiTags;
use super::form::FORM;
use super::wire::{ErrorBody, TokenBody};

/// A token request (RFC 6749 §4.4.2), form-urlencoded. Parameters not
/// listed are ignored, an empty one counts as omitted (RFC 6749 §3.2), and
/// a listed one sent twice is `invalid_request`.
//
// Documentation only: the protocol core parses the raw form, because only
// it knows the RFC's rules.
//
// Optional members default to "" so that the docs page's "Try it out"
// leaves them empty (it fills the word "string" into any other), and an
// empty parameter counts as omitted.
#[derive(Object)]
#[oai(rename = "TokenRequest")]
pub(super) struct TokenRequestForm {
    /// `client_credentials`; token exchange (RFC 8693, with
    /// `subject_token`); or the JWT bearer grant (RFC 7523 §2.1, with
    /// `assertion`: a trusted platform's token, as a `client_assertion`).
    pub grant_type: GrantTypeParam,
    /// Space-separated scopes; omitted or empty means every scope the
    /// client may use.
    #[oai(default)]
    pub scope: String,
    /// RFC 8707 resource indicators, repeatable: the `name`s of API
    /// resources (absolute URIs) the token is for. With them, `aud` is
    /// exactly these and the scopes are narrowed to theirs.
    #[oai(default)]
    pub resource: Vec<String>,
    /// For `client_secret_post`, and alone for a public client (`none`).
    /// With HTTP Basic leave it out (or send the same id).
    #[oai(default)]
    pub client_id: String,
    /// For `client_secret_post` only; empty counts as omitted.
    #[oai(default)]
    pub client_secret: String,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, with
    /// `client_assertion` (`private_key_jwt`, or a trusted platform's token).
    #[oai(default)]
    pub client_assertion_type: String,
    /// A JWT signed by the client's key (`iss` = `sub` = client id, `aud` =
    /// the issuer or this endpoint, `exp` within an hour, a `jti` used
    /// once) or a trusted issuer's token (a Kubernetes service-account
    /// token, a GitHub Actions token).
    #[oai(default)]
    pub client_assertion: String,
    /// JWT bearer grant: the platform's token (or the client's own
    /// assertion); no other client authentication beside it.
    #[oai(default)]
    pub assertion: String,
    /// Token exchange: the token of the subject the client acts for.
    #[oai(default)]
    pub subject_token: String,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token`
    /// (one of tollgate's tokens) or `urn:ietf:params:oauth:token-type:jwt`
    /// (a trusted issuer's).
    #[oai(default)]
    pub subject_token_type: String,
    /// Token exchange: only `urn:ietf:params:oauth:token-type:access_token`.
    #[oai(default)]
    pub requested_token_type: String,
    /// Token exchange, repeatable: `[[api_resources]]` names the token is
    /// for (as `resource`).
    #[oai(default)]
    pub audience: Vec<String>,
    /// Authorization code grant: the code the redirect carried (it lives
    /// 60 s and is used once).
    #[oai(default)]
    pub code: String,
    /// Authorization code grant: the `redirect_uri` of the authorization
    /// request, exactly.
    #[oai(default)]
    pub redirect_uri: String,
    /// Authorization code grant: the PKCE verifier (RFC 7636, S256), 43 to
    /// 128 unreserved characters.
    #[oai(default)]
    pub code_verifier: String,
    /// Refresh token grant: the last refresh token issued (each is used
    /// once; a used one presented again revokes its whole family).
    #[oai(default)]
    pub refresh_token: String,
}

/// The grant types the token endpoint accepts.
#[derive(Enum)]
#[oai(rename = "GrantType", rename_all = "snake_case")]
pub(super) enum GrantTypeParam {
    ClientCredentials,
    #[oai(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
    #[oai(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
    AuthorizationCode,
    RefreshToken,
}

/// The token endpoint's responses (built by `wire`; listed here for the
/// document).
#[derive(ApiResponse)]
pub enum TokenResponses {
    /// The access token.
    #[oai(status = 200)]
    Issued(
        Json<TokenBody>,
        /// `no-store`
        #[oai(header = "Cache-Control")]
        String,
        /// `no-cache`
        #[oai(header = "Pragma")]
        String,
    ),
    /// `invalid_request`, `invalid_grant` (a subject token, an assertion
    /// grant, a code or a refresh token that does not hold),
    /// `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_target` (RFC
    /// 8707) or `invalid_dpop_proof` (RFC 9449).
    #[oai(status = 400)]
    BadRequest(
        Json<ErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `invalid_client`: unknown client, wrong or expired secret, disabled
    /// client, a bad assertion, or no client authentication. Always the same
    /// body, after the same time.
    #[oai(status = 401)]
    Unauthorized(
        Json<ErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        /// `Basic realm="tollgate"` when the request had an
        /// `Authorization` header.
        #[oai(header = "WWW-Authenticate")]
        Option<String>,
    ),
    /// The body is larger than 16 KiB (`invalid_request`).
    #[oai(status = 413)]
    PayloadTooLarge(
        Json<ErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `temporarily_unavailable`: too many failed authentications for this
    /// client id or source address; wait `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        #[oai(header = "Retry-After")] u64,
    ),
    /// `server_error`: the cause is in the server log.
    #[oai(status = 500)]
    ServerError(
        Json<ErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `temporarily_unavailable`: the replay store (Redis) cannot be
    /// reached to check an assertion or DPoP proof; retry after
    /// `Retry-After` seconds.
    #[oai(status = 503)]
    Unavailable(
        Json<ErrorBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        #[oai(header = "Retry-After")] u64,
    ),
}

/// The `DPoP` request header (RFC 9449 §4).
fn dpop_header() -> poem_openapi::registry::MetaOperationParam {
    poem_openapi::registry::MetaOperationParam {
        name: "DPoP".into(),
        schema: String::schema_ref(),
        in_type: poem_openapi::registry::MetaParamIn::Header,
        description: Some(
            "A DPoP proof (RFC 9449): with it the token is bound to the proof's key \
             (`token_type` `DPoP`, `cnf.jkt`)."
                .into(),
        ),
        required: false,
        deprecated: false,
        explode: true,
        style: None,
    }
}

/// The security scheme of `client_secret_basic`.
const BASIC_SCHEME: &str = "client_secret_basic";

/// Documents `POST /connect/token`; `endpoints::token` serves it.
pub(super) struct TokenApi;

impl OpenApi for TokenApi {
    fn meta() -> Vec<MetaApi> {
        let operation = MetaOperation {
            method: Method::POST,
            tags: vec![ApiTags::OAuth.name()],
            summary: Some("Token endpoint"),
            description: Some(
                "Issues an access token for the `client_credentials` grant (RFC 6749 §4.4). \
                 Authenticate with one of: HTTP Basic (`client_secret_basic`: the Authorize \
                 button); `client_id` and `client_secret` in the body (`client_secret_post`); \
                 or a JWT in `client_assertion` (`private_key_jwt` with the client's own key, \
                 or a trusted platform's token such as a Kubernetes service-account token).",
            ),
            external_docs: None,
            params: vec![dpop_header()],
            request: Some(MetaRequest {
                description: None,
                content: vec![MetaMediaType {
                    content_type: FORM,
                    schema: TokenRequestForm::schema_ref(),
                }],
                required: true,
            }),
            responses: <TokenResponses as ApiResponse>::meta(),
            deprecated: false,
            // Basic, or nothing in the header (client_secret_post).
            security: vec![HashMap::from([(BASIC_SCHEME, Vec::new())]), HashMap::new()],
            operation_id: Some("token"),
            code_samples: Vec::new(),
        };
        vec![MetaApi {
            paths: vec![MetaPath {
                path: super::scope::TOKEN_PATH.into(),
                operations: vec![operation],
            }],
        }]
    }

    fn register(registry: &mut Registry) {
        TokenRequestForm::register(registry);
        <TokenResponses as ApiResponse>::register(registry);
        registry.create_security_scheme(
            BASIC_SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "client_secret_basic (RFC 6749 §2.3.1): HTTP Basic with the client id and \
                     secret, each form-urlencoded first. Alternatively send client_id and \
                     client_secret in the form body (client_secret_post); never both.",
                ),
                name: None,
                key_in: None,
                scheme: Some("basic"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    /// Routed outside the service, see the module's documentation.
    fn add_routes(self, _: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {}
}
