//! `POST /connect/token`: HTTP in, protocol core, HTTP out.

use std::sync::Arc;

use poem::Request;
use poem::http::header::AUTHORIZATION;
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, Enum, ExtractParamOptions, Object, OpenApi,
};
use serde::Serialize;

use super::AppState;
use super::payload::{SerdeJson, TokenForm};
use crate::oauth::{self, ErrorCode, OAuthError, client_auth};
use crate::token;

/// A token request (RFC 6749 §4.4.2), form-urlencoded. Parameters not
/// listed are ignored; a listed one sent twice is `invalid_request`.
//
// Documentation only: the handler reads the raw form (see `TokenForm`).
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
    /// An RFC 9068 JWT access token, ES256-signed.
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
    error: &'static str,
    error_description: std::borrow::Cow<'static, str>,
}

type ErrorJson = SerdeJson<ErrorBody, ErrorDoc>;

const NO_STORE: &str = "no-store";
const NO_CACHE: &str = "no-cache";

#[derive(ApiResponse)]
#[oai(bad_request_handler = "unparsable_request")]
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

impl From<OAuthError> for TokenResponse {
    fn from(e: OAuthError) -> Self {
        let body = SerdeJson::new(ErrorBody {
            error: e.code.as_str(),
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
            _ => Self::BadRequest(body, NO_STORE.into(), NO_CACHE.into()),
        }
    }
}

fn unparsable_request(err: poem::Error) -> TokenResponse {
    let description = if err.is::<poem_openapi::error::ContentTypeError>() {
        "the body must be application/x-www-form-urlencoded"
    } else {
        "the request could not be read"
    };
    tracing::debug!(error = %err, "unparsable token request");
    OAuthError::invalid_request(description).into()
}

/// The raw `Authorization` header, documented as the `client_secret_basic`
/// security scheme. It never rejects a request itself: a missing or broken
/// header must become the RFC's `invalid_client`, which only the core knows.
pub struct ClientSecretBasic(Option<poem::http::HeaderValue>);

impl<'a> ApiExtractor<'a> for ClientSecretBasic {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            "client_secret_basic",
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

    fn security_schemes() -> Vec<&'static str> {
        vec!["client_secret_basic"]
    }

    /// client_secret_post needs no header, so the scheme is optional.
    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut poem::RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(Self(request.headers().get(AUTHORIZATION).cloned()))
    }
}

pub struct TokenApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl TokenApi {
    /// Token endpoint
    ///
    /// Issues an access token for the `client_credentials` grant (RFC 6749
    /// §4.4). Authenticate with HTTP Basic (`client_secret_basic`) or with
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    #[oai(
        path = "/connect/token",
        method = "post",
        operation_id = "token",
        tag = "ApiTags::OAuth"
    )]
    async fn token(&self, auth: ClientSecretBasic, body: TokenForm) -> TokenResponse {
        match self
            .issue(auth.0.as_ref().map(|v| v.as_bytes()), &body.0)
            .await
        {
            Ok(r) => r,
            Err(e) => e.into(),
        }
    }
}

impl TokenApi {
    async fn issue(
        &self,
        authorization: Option<&[u8]>,
        body: &[u8],
    ) -> Result<TokenResponse, OAuthError> {
        let request = oauth::parse_token_request(body, authorization)?;
        let config = self.state.config();
        let now = (self.state.clock)();
        let client = match client_auth::authenticate_cached(
            &config,
            &self.state.secret_cache,
            &request.credentials,
            now,
        ) {
            Some(client) => client,
            None => self.authenticate_slowly(&config, &request, now).await?,
        };
        let client_id = &request.credentials.client_id;
        let grant = oauth::grant::client_credentials(
            &config,
            client,
            &request.grant_type,
            request.scope.as_deref(),
        )
        .inspect_err(
            |e| tracing::info!(client_id = %client_id, error = %e.code, "token refused"),
        )?;
        let issuer = self.state.issuer(&config);
        let issued = token::mint(
            &grant,
            &issuer,
            self.state.keys.active(),
            now.unix_timestamp(),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            OAuthError::server_error()
        })?;
        tracing::debug!(client_id = %client_id, scope = %issued.scope, jti = %issued.jti, "token issued");
        Ok(TokenResponse::Issued(
            SerdeJson::new(TokenSuccessOwned {
                access_token: issued.access_token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                scope: issued.scope,
            }),
            NO_STORE.into(),
            NO_CACHE.into(),
        ))
    }

    /// Argon2 on the blocking pool, at most one run per core at a time.
    async fn authenticate_slowly(
        &self,
        config: &Arc<crate::config::Config>,
        request: &oauth::TokenRequest,
        now: time::OffsetDateTime,
    ) -> Result<Arc<oauth::Client>, OAuthError> {
        let internal = |what: &str, e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "{what}");
            OAuthError::server_error()
        };
        let _permit = self
            .state
            .argon2_permits
            .acquire()
            .await
            .map_err(|e| internal("argon2 semaphore closed", &e))?;
        // Requests of a client that queued here together (a fresh start, a
        // burst) find the secret verified by the first of them.
        if let Some(client) = client_auth::authenticate_cached(
            config,
            &self.state.secret_cache,
            &request.credentials,
            now,
        ) {
            return Ok(client);
        }
        let (state, config, credentials) = (
            self.state.clone(),
            config.clone(),
            request.credentials.clone(),
        );
        tokio::task::spawn_blocking(move || {
            client_auth::authenticate(&config, &state.secret_cache, &credentials, now)
        })
        .await
        .map_err(|e| internal("client authentication task failed", &e))?
        .inspect_err(|e| {
            tracing::info!(client_id = %request.credentials.client_id, error = %e.code, "client authentication failed")
        })
    }
}

use super::ApiTags;
