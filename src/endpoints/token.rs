//! `POST /connect/token`: HTTP in, protocol core, HTTP out.

use std::collections::HashMap;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::http::header::AUTHORIZATION;
use poem::{Body, IntoResponse, Request, Response};
use poem_openapi::registry::{
    MetaApi, MetaMediaType, MetaOperation, MetaPath, MetaRequest, MetaSecurityScheme, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde::Serialize;

use super::payload::SerdeJson;
use super::{ApiTags, AppState};
use crate::audit::{self, Attempt};
use crate::oauth::{self, ErrorCode, OAuthError, client_auth};
use crate::token;

/// A token request (RFC 6749 §4.4.2), form-urlencoded. Parameters not
/// listed are ignored; a listed one sent twice is `invalid_request`.
//
// Documentation only: the protocol core parses the raw form, because only
// it knows the RFC's rules (repeats are errors, unknown ones are ignored).
#[derive(Object)]
#[oai(rename = "TokenRequest")]
pub struct TokenRequestForm {
    /// Must be `client_credentials`.
    pub grant_type: GrantTypeParam,
    /// Space-separated scopes; omitted means every scope the client may use.
    pub scope: Option<String>,
    /// For `client_secret_post` only; with HTTP Basic leave it out (or send
    /// the same id).
    pub client_id: Option<String>,
    /// For `client_secret_post` only.
    #[oai(validator(min_length = 1))]
    pub client_secret: Option<String>,
}

/// The grant types the token endpoint accepts.
#[derive(Enum)]
#[oai(rename = "GrantType", rename_all = "snake_case")]
pub enum GrantTypeParam {
    ClientCredentials,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Object)]
#[oai(rename = "TokenResponse")]
pub struct TokenSuccessDoc {
    /// An RFC 9068 JWT access token, signed with the active key (ES256 by
    /// default; EdDSA or RS256 when configured).
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the token expires.
    expires_in: u64,
    /// The granted scopes, space-separated.
    scope: String,
}

/// The RFC 6749 §5.2 error codes.
#[derive(Enum, Clone, Copy)]
#[oai(rename = "ErrorCode", rename_all = "snake_case")]
pub enum ErrorCodeDoc {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    TemporarilyUnavailable,
}

/// An error response (RFC 6749 §5.2).
#[derive(Object)]
#[oai(rename = "OAuthError")]
pub struct ErrorDoc {
    error: ErrorCodeDoc,
    /// Human-readable detail for the developer of the client.
    error_description: String,
}

#[derive(Serialize)]
pub struct ErrorBody {
    error: ErrorCode,
    error_description: std::borrow::Cow<'static, str>,
}

type ErrorJson = SerdeJson<ErrorBody, ErrorDoc>;

const NO_STORE: &str = "no-store";
const NO_CACHE: &str = "no-cache";

/// The token endpoint's responses: documents all of them; errors are also
/// produced through it.
#[derive(ApiResponse)]
pub enum TokenResponse {
    /// The access token.
    #[oai(status = 200)]
    Issued(
        SerdeJson<TokenSuccessOwned, TokenSuccessDoc>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `invalid_request`, `unauthorized_client`, `unsupported_grant_type` or
    /// `invalid_scope`.
    #[oai(status = 400)]
    BadRequest(
        ErrorJson,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `invalid_client`: unknown client, wrong or expired secret, disabled
    /// client, or no client authentication. Always the same body.
    #[oai(status = 401)]
    Unauthorized(
        ErrorJson,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        /// `Basic realm="tollgate"` when the client used HTTP Basic.
        #[oai(header = "WWW-Authenticate")]
        Option<String>,
    ),
    /// `temporarily_unavailable`: too many failed authentications for this
    /// client id or source address; wait `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(
        ErrorJson,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        #[oai(header = "Retry-After")] u64,
    ),
    /// The body is larger than 16 KiB (`invalid_request`).
    #[oai(status = 413)]
    PayloadTooLarge(
        ErrorJson,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `server_error`: the cause is in the server log.
    #[oai(status = 500)]
    ServerError(
        ErrorJson,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
}

/// Owned form of the success body (the response outlives the handler).
#[derive(Serialize)]
pub struct TokenSuccessOwned {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

impl TokenResponse {
    fn too_large() -> Self {
        Self::PayloadTooLarge(
            SerdeJson::new(ErrorBody {
                error: ErrorCode::InvalidRequest,
                error_description: "the request body is larger than 16 KiB".into(),
            }),
            NO_STORE.into(),
            NO_CACHE.into(),
        )
    }
}

impl From<OAuthError> for TokenResponse {
    fn from(e: OAuthError) -> Self {
        let body = SerdeJson::new(ErrorBody {
            error: e.code,
            error_description: e.description,
        });
        match e.code {
            ErrorCode::InvalidClient => Self::Unauthorized(
                body,
                NO_STORE.into(),
                NO_CACHE.into(),
                e.basic_challenge
                    .then(|| r#"Basic realm="tollgate""#.to_owned()),
            ),
            ErrorCode::ServerError => Self::ServerError(body, NO_STORE.into(), NO_CACHE.into()),
            ErrorCode::TemporarilyUnavailable => Self::TooManyRequests(
                body,
                NO_STORE.into(),
                NO_CACHE.into(),
                e.retry_after.unwrap_or(1),
            ),
            _ => Self::BadRequest(body, NO_STORE.into(), NO_CACHE.into()),
        }
    }
}

/// The security scheme of `client_secret_basic`.
const BASIC_SCHEME: &str = "client_secret_basic";

/// Documents `POST /connect/token` in the OpenAPI document; [`endpoint`]
/// serves it, routed by `endpoints::routes` in front of the OpenAPI service.
///
/// This is the hot path, so it bypasses poem-openapi's per-request layers
/// (the service's query extraction and nested routing, the derived
/// extractors): measured side by side, they cost 10–12 % of token
/// throughput. The operation is described by hand, but from the very types
/// the handler uses (form schema, `TokenResponse`), so the document cannot
/// drift from the responses; `tests/it/openapi.rs` checks it.
pub struct TokenApi;

impl OpenApi for TokenApi {
    fn meta() -> Vec<MetaApi> {
        let operation = MetaOperation {
            method: Method::POST,
            tags: vec![ApiTags::OAuth.name()],
            summary: Some("Token endpoint"),
            description: Some(
                "Issues an access token for the `client_credentials` grant (RFC 6749 §4.4). \
                 Authenticate with HTTP Basic (`client_secret_basic`) or with `client_id` and \
                 `client_secret` in the body (`client_secret_post`), never both.",
            ),
            external_docs: None,
            params: Vec::new(),
            request: Some(MetaRequest {
                description: None,
                content: vec![MetaMediaType {
                    content_type: FORM,
                    schema: TokenRequestForm::schema_ref(),
                }],
                required: true,
            }),
            responses: <TokenResponse as ApiResponse>::meta(),
            deprecated: false,
            // Basic, or nothing in the header (client_secret_post).
            security: vec![HashMap::from([(BASIC_SCHEME, Vec::new())]), HashMap::new()],
            operation_id: Some("token"),
            code_samples: Vec::new(),
        };
        vec![MetaApi {
            paths: vec![MetaPath {
                path: "/connect/token".into(),
                operations: vec![operation],
            }],
        }]
    }

    fn register(registry: &mut Registry) {
        TokenRequestForm::register(registry);
        <TokenResponse as ApiResponse>::register(registry);
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

    /// Routed outside the service, see the type's documentation.
    fn add_routes(self, _: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {}
}

/// The token endpoint, ready to route at `/connect/token`.
pub fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::post(TokenEndpoint { state })
}

/// Holds the state itself: poem's `.data()` would put it in every
/// request's extensions (a map allocated per request) to be looked up again.
struct TokenEndpoint {
    state: Arc<AppState>,
}

impl poem::Endpoint for TokenEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = req.take_body();
        Ok(token_endpoint(&req, body, &self.state).await)
    }
}

/// `POST /connect/token`.
async fn token_endpoint(req: &Request, body: Body, state: &Arc<AppState>) -> Response {
    let address = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let mut attempt = Attempt::default();
    if !req.content_type().is_some_and(is_form) {
        let response = OAuthError::invalid_request(WRONG_CONTENT_TYPE).into();
        return refuse(state, response, &attempt, address);
    }
    let form = match read_limited(req, body).await {
        Ok(form) => form,
        Err(response) => return refuse(state, response, &attempt, address),
    };
    let authorization = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
    match issue(state, authorization, &form, address, &mut attempt).await {
        Ok(issued) => issued_response(issued),
        Err(e) => refuse(state, e.into(), &attempt, address),
    }
}

/// An error response, counted by its error code (and client
/// authentication failures by their reason), and audited.
fn refuse(
    state: &AppState,
    response: TokenResponse,
    attempt: &Attempt,
    address: Option<std::net::IpAddr>,
) -> Response {
    let code = match &response {
        TokenResponse::Issued(..) => None,
        TokenResponse::BadRequest(body, ..)
        | TokenResponse::Unauthorized(body, ..)
        | TokenResponse::TooManyRequests(body, ..)
        | TokenResponse::PayloadTooLarge(body, ..)
        | TokenResponse::ServerError(body, ..) => Some(body.0.error),
    };
    if let Some(code) = code {
        state.metrics.token_refused(code);
        if matches!(
            code,
            ErrorCode::InvalidClient | ErrorCode::TemporarilyUnavailable
        ) {
            state
                .metrics
                .client_auth_failed(attempt.reason.unwrap_or("malformed_credentials"));
        }
        audit::refused(attempt, code.as_str(), address);
    }
    response.into_response()
}

const FORM: &str = "application/x-www-form-urlencoded";

/// `application/x-www-form-urlencoded`, any case, parameters (such as
/// `; charset=UTF-8`) allowed.
fn is_form(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case(FORM)
}

/// How long a token request body may take to arrive.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The largest token request body accepted. A real one is under 1 KiB.
pub const MAX_BODY: usize = 16 * 1024;

/// Reads the body, refusing one over [`MAX_BODY`] with 413. A declared
/// length is checked before reading (hyper never reads past it); a chunked
/// body is counted as it arrives.
async fn read_limited(req: &Request, body: Body) -> Result<bytes::Bytes, TokenResponse> {
    let declared = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    let read = async {
        match declared {
            Some(n) if n > MAX_BODY => Err(poem::error::ReadBodyError::PayloadTooLarge),
            Some(_) => body.into_bytes().await,
            None => body.into_bytes_limit(MAX_BODY).await,
        }
    };
    // A body trickled in byte by byte would hold the request open forever
    // (the connection's idle timeout resets on every byte).
    let Ok(read) = tokio::time::timeout(BODY_TIMEOUT, read).await else {
        return Err(OAuthError::invalid_request("the request body did not arrive in time").into());
    };
    read.map_err(|e| match e {
        poem::error::ReadBodyError::PayloadTooLarge => TokenResponse::too_large(),
        _ => OAuthError::invalid_request("the request body could not be read").into(),
    })
}

const WRONG_CONTENT_TYPE: &str = "the body must be application/x-www-form-urlencoded";

/// The 200 response, as `TokenResponse::Issued` documents it, built
/// directly: its headers are constants, which the derived conversion would
/// allocate and validate again for every token.
fn issued_response(issued: token::IssuedToken) -> Response {
    use poem::http::HeaderValue;
    use poem::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
    let body = TokenSuccessOwned {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scope,
    };
    match serde_json::to_vec(&body) {
        Ok(json) => Response::builder()
            .header(CONTENT_TYPE, HeaderValue::from_static(super::payload::JSON))
            .header(CACHE_CONTROL, HeaderValue::from_static(NO_STORE))
            .header(PRAGMA, HeaderValue::from_static(NO_CACHE))
            .body(json),
        Err(e) => {
            tracing::error!(error = %e, "token response serialization failed");
            TokenResponse::from(OAuthError::server_error()).into_response()
        }
    }
}

/// Runs a token request through the protocol core, noting in `attempt`
/// what the audit event needs.
async fn issue(
    state: &Arc<AppState>,
    authorization: Option<&[u8]>,
    body: &[u8],
    address: Option<std::net::IpAddr>,
    attempt: &mut Attempt,
) -> Result<token::IssuedToken, OAuthError> {
    let request = oauth::parse_token_request(body, authorization)?;
    let result = issue_for(state, &request, address, attempt).await;
    let client_id = request.credentials.client_id.as_str();
    match &result {
        Ok(issued) => audit::issued(client_id, issued, address),
        // Only a refusal pays for a copy of the id (it is audited later,
        // with the errors that come before parsing).
        Err(_) => attempt.client_id = Some(client_id.to_owned()),
    }
    result
}

async fn issue_for(
    state: &Arc<AppState>,
    request: &oauth::TokenRequest,
    address: Option<std::net::IpAddr>,
    attempt: &mut Attempt,
) -> Result<token::IssuedToken, OAuthError> {
    let config = state.config();
    let now = (state.clock)();
    let client = match client_auth::authenticate_cached(
        &config,
        &state.secret_cache,
        &request.credentials,
        now,
    ) {
        Some(client) => client,
        None => authenticate_slowly(state, &config, request, now, address, attempt).await?,
    };
    let grant = oauth::grant::client_credentials(
        &config,
        client,
        &request.grant_type,
        request.scope.as_deref(),
    )?;
    let issuer = state.issuer(&config);
    let keys = state.keys();
    let Some(key) = keys.active(now) else {
        tracing::error!("no signing key is active; see [keys] in the config file");
        attempt.reason = Some("no_active_key");
        return Err(OAuthError::server_error());
    };
    let key = key.clone();
    // The ring is not held while the token waits for its signature.
    drop(keys);
    let issued = token::mint(&grant, &issuer, key, now.unix_timestamp())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            attempt.reason = Some("signing_failed");
            OAuthError::server_error()
        })?;
    state
        .metrics
        .token_issued(&request.credentials.client_id, &issued.scope);
    Ok(issued)
}

/// Argon2 on the blocking pool, at most one run per core at a time.
async fn authenticate_slowly(
    state: &Arc<AppState>,
    config: &Arc<crate::config::Config>,
    request: &oauth::TokenRequest,
    now: time::OffsetDateTime,
    address: Option<std::net::IpAddr>,
    attempt: &mut Attempt,
) -> Result<Arc<oauth::Client>, OAuthError> {
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "{what}");
        OAuthError::server_error()
    };
    let _permit = state
        .argon2_permits
        .acquire()
        .await
        .map_err(|e| internal("argon2 semaphore closed", &e))?;
    // Requests of a client that queued here together (a fresh start, a
    // burst) find the secret verified by the first of them.
    if let Some(client) =
        client_auth::authenticate_cached(config, &state.secret_cache, &request.credentials, now)
    {
        return Ok(client);
    }
    // Counted here, where Argon2 is about to run, so that a burst of one
    // client's requests (all waiting for the first verification) counts once.
    let client_id = &request.credentials.client_id;
    if let Err(wait) = state.throttle.attempt(client_id, address) {
        tracing::warn!(client_id = ?client_id.as_str(), address = ?address, retry_after = ?wait, "client authentication throttled");
        attempt.reason = Some("throttled");
        return Err(OAuthError::throttled(wait));
    }
    let basic = request.credentials.method.is_basic();
    let (state, config, credentials) = (state.clone(), config.clone(), request.credentials.clone());
    tokio::task::spawn_blocking(move || {
        client_auth::authenticate(&config, &state.secret_cache, &credentials, now)
    })
    .await
    .map_err(|e| internal("client authentication task failed", &e))?
    .map_err(|failure| {
        attempt.reason = Some(failure.as_str());
        failure.to_error(basic)
    })
}
