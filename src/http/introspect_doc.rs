//! `POST /connect/introspect` in the OpenAPI document (the endpoint is
//! a plain poem endpoint, like the token endpoint; see `token_doc`).

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::payload::Json;
use poem_openapi::registry::{
    MetaApi, MetaMediaType, MetaOperation, MetaPath, MetaRequest, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::ApiTags;
use super::form::FORM;
use super::wire::ErrorBody;

/// An introspection request (RFC 7662 §2.1), by an API resource that has
/// `[[api_resources.secrets]]`: HTTP Basic with its `name` and secret, or
/// `client_id` and `client_secret` in the body.
#[derive(Object)]
#[oai(rename = "IntrospectionRequest")]
pub(super) struct IntrospectionForm {
    /// The access token.
    pub token: String,
    /// Ignored (tollgate has access tokens only).
    #[oai(default)]
    pub token_type_hint: String,
    /// The resource's name, for `client_secret_post`.
    #[oai(default)]
    pub client_id: String,
    /// For `client_secret_post`.
    #[oai(default)]
    pub client_secret: String,
}

/// RFC 7662 §2.2. Only `active` when the token is not.
#[derive(Object)]
#[oai(rename = "IntrospectionResponse")]
pub struct IntrospectionBody {
    /// Whether the token is active: signed by a published key, not
    /// expired, its client still registered and enabled, issued at or after
    /// the client's `tokens_valid_after`, and the caller in its `aud`.
    pub active: bool,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub sub: Option<String>,
    /// A string, or an array of strings.
    pub aud: Option<serde_json::Value>,
    pub iss: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub jti: Option<String>,
    /// `Bearer` or `DPoP`.
    pub token_type: Option<String>,
    /// `{ "jkt": ... }` of a DPoP-bound token.
    pub cnf: Option<serde_json::Value>,
}

// Never built (the endpoint writes its responses itself): only its
// description is used, so the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum IntrospectionResponses {
    /// The token's state.
    #[oai(status = 200)]
    Ok(
        Json<IntrospectionBody>,
        /// `no-store`
        #[oai(header = "Cache-Control")]
        String,
    ),
    /// `invalid_request`: no `token`, or a malformed request.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `invalid_client`: the caller is not an API resource with that
    /// secret.
    #[oai(status = 401)]
    Unauthorized(
        Json<ErrorBody>,
        /// `Basic realm="tollgate"` when the request had an
        /// `Authorization` header.
        #[oai(header = "WWW-Authenticate")]
        Option<String>,
    ),
    /// `temporarily_unavailable`: too many failed authentications.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

pub(super) struct IntrospectApi;

impl OpenApi for IntrospectApi {
    fn meta() -> Vec<MetaApi> {
        let operation = MetaOperation {
            method: Method::POST,
            tags: vec![ApiTags::OAuth.name()],
            summary: Some("Token introspection"),
            description: Some(
                "Tells an API whether an access token is active now (RFC 7662), judged against \
                 the file in force. The caller authenticates as an `[[api_resources]]` entry \
                 with secrets.",
            ),
            external_docs: None,
            params: Vec::new(),
            request: Some(MetaRequest {
                description: None,
                content: vec![MetaMediaType {
                    content_type: FORM,
                    schema: IntrospectionForm::schema_ref(),
                }],
                required: true,
            }),
            responses: <IntrospectionResponses as ApiResponse>::meta(),
            deprecated: false,
            security: vec![
                HashMap::from([("client_secret_basic", Vec::new())]),
                HashMap::new(),
            ],
            operation_id: Some("introspect"),
            code_samples: Vec::new(),
        };
        vec![MetaApi {
            paths: vec![MetaPath {
                path: super::scope::INTROSPECT_PATH.into(),
                operations: vec![operation],
            }],
        }]
    }

    fn register(registry: &mut Registry) {
        IntrospectionForm::register(registry);
        <IntrospectionResponses as ApiResponse>::register(registry);
    }

    /// Routed outside the service.
    fn add_routes(self, _: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {}
}
