//! `GET|POST /connect/userinfo` and `POST /connect/revoke` in the OpenAPI
//! document (plain poem endpoints, like the token endpoint; see
//! `token_doc`).

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::payload::Json;
use poem_openapi::registry::{
    MetaApi, MetaMediaType, MetaOperation, MetaPath, MetaRequest, MetaResponses, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::ApiTags;
use super::form::FORM;
use super::wire::ErrorBody;

/// A revocation request (RFC 7009 §2.1); the client authenticates as at
/// the token endpoint.
#[derive(Object)]
#[oai(rename = "RevocationRequest")]
pub(super) struct RevocationForm {
    /// A refresh token (its whole family is revoked) or an access token
    /// (revoked until it expires).
    pub token: String,
    /// Ignored: both kinds are tried.
    #[oai(default)]
    pub token_type_hint: String,
    /// For `client_secret_post`, or alone for a public client.
    #[oai(default)]
    pub client_id: String,
    /// For `client_secret_post`.
    #[oai(default)]
    pub client_secret: String,
}

#[derive(ApiResponse)]
pub enum RevocationResponses {
    /// Revoked, or not a token of this client's (RFC 7009 §2.2: the same
    /// answer); an empty body.
    #[oai(status = 200)]
    Ok,
    /// `invalid_request`: no `token`, or a malformed request.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `invalid_client`: the one body of every failed authentication.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `temporarily_unavailable`: too many failed authentications for this
    /// client id or source address, as at the token endpoint; wait
    /// `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// `server_error`: the cause is in the server log.
    #[oai(status = 500)]
    ServerError(Json<ErrorBody>),
    /// `temporarily_unavailable`: the replay store (Redis) cannot be
    /// reached; retry after `Retry-After` seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

/// An RFC 6750 §3.1 error of a protected resource (userinfo is one).
#[derive(Object)]
#[oai(rename = "BearerError")]
pub struct BearerErrorBody {
    pub error: BearerErrorCode,
    /// Human-readable detail for the developer of the client.
    pub error_description: String,
}

/// RFC 6750 §3.1's error codes.
#[derive(poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum BearerErrorCode {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
}

#[derive(ApiResponse)]
pub enum UserinfoResponses {
    /// `sub` and the claims of the token's identity scopes.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
    /// `invalid_token`, with RFC 6750's `WWW-Authenticate` challenge.
    #[oai(status = 401)]
    Unauthorized(
        Json<BearerErrorBody>,
        #[oai(header = "WWW-Authenticate")] String,
    ),
    /// `insufficient_scope`: not a person's token with `openid`.
    #[oai(status = 403)]
    Forbidden(
        Json<BearerErrorBody>,
        #[oai(header = "WWW-Authenticate")] String,
    ),
    /// `temporarily_unavailable`: the replay store (Redis), which says
    /// whether the token was revoked, cannot be reached.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

pub(super) struct PeopleApi;

fn operation(
    method: Method,
    summary: &'static str,
    description: &'static str,
    request: Option<MetaRequest>,
    responses: MetaResponses,
    id: &'static str,
) -> MetaOperation {
    MetaOperation {
        method,
        tags: vec![ApiTags::OAuth.name()],
        summary: Some(summary),
        description: Some(description),
        external_docs: None,
        params: Vec::new(),
        request,
        responses,
        deprecated: false,
        security: Vec::new(),
        operation_id: Some(id),
        code_samples: Vec::new(),
    }
}

impl OpenApi for PeopleApi {
    fn meta() -> Vec<MetaApi> {
        const USERINFO: &str = "The signed-in person's claims for the identity scopes of the \
            access token (OpenID Connect Core §5.3), as the file says now. The token comes in \
            `Authorization`: `Bearer`, or `DPoP` with a proof for a bound token.";
        let userinfo = |method: Method, id| {
            operation(
                method,
                "UserInfo",
                USERINFO,
                None,
                <UserinfoResponses as ApiResponse>::meta(),
                id,
            )
        };
        let revoke = operation(
            Method::POST,
            "Token revocation",
            "Revokes a refresh token's family or an access token (RFC 7009). Always 200 for \
             an authenticated client, whatever the token.",
            Some(MetaRequest {
                description: None,
                content: vec![MetaMediaType {
                    content_type: FORM,
                    schema: RevocationForm::schema_ref(),
                }],
                required: true,
            }),
            <RevocationResponses as ApiResponse>::meta(),
            "revoke",
        );
        vec![MetaApi {
            paths: vec![
                MetaPath {
                    path: super::scope::USERINFO_PATH.into(),
                    operations: vec![
                        userinfo(Method::GET, "userinfo"),
                        userinfo(Method::POST, "userinfo_post"),
                    ],
                },
                MetaPath {
                    path: super::scope::REVOKE_PATH.into(),
                    operations: vec![revoke],
                },
            ],
        }]
    }

    fn register(registry: &mut Registry) {
        RevocationForm::register(registry);
        <RevocationResponses as ApiResponse>::register(registry);
        <UserinfoResponses as ApiResponse>::register(registry);
    }

    /// Routed outside the service.
    fn add_routes(self, _: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {}
}
