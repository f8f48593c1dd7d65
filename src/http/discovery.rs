//! Discovery: OpenID Connect Discovery 1.0 and RFC 8414 metadata, one
//! document at both well-known paths.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{ApiTags, AppState, public_metadata};

/// Authorization server metadata (RFC 8414 §2, OIDC Discovery §3).
#[derive(Object)]
pub struct Discovery {
    /// The issuer identifier: the `iss` of every token.
    issuer: String,
    /// URL of the authorization endpoint (the code flow with PKCE S256).
    /// Without `[login]` it refuses every request (400, never a
    /// redirect); it is named even then because RFC 8414 §2 requires the
    /// member and clients such as the MCP SDKs refuse a document without
    /// it.
    authorization_endpoint: String,
    /// URL of the token endpoint.
    token_endpoint: String,
    /// URL of the JWK Set with the token signing keys.
    jwks_uri: String,
    /// URL of the introspection endpoint (RFC 7662), for API resources
    /// with secrets.
    introspection_endpoint: String,
    /// How API resources authenticate there.
    introspection_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms DPoP proofs may be signed with (RFC 9449).
    dpop_signing_alg_values_supported: Vec<String>,
    /// `client_credentials`, token exchange (RFC 8693),
    /// `authorization_code`, `refresh_token` and the JWT bearer assertion
    /// grant (RFC 7523 §2.1).
    grant_types_supported: Vec<String>,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt`
    /// (which also carries platform tokens of trusted issuers),
    /// `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705),
    /// and `none` (a public client: its `client_id` alone).
    token_endpoint_auth_methods_supported: Vec<String>,
    /// `true`: tokens of a client that authenticated with a certificate
    /// are bound to it (`cnf.x5t#S256`, RFC 8705 §3).
    tls_client_certificate_bound_access_tokens: bool,
    /// The algorithms client assertions may be signed with.
    token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// Every scope declared in identity.toml, then the identity scopes
    /// (`openid`, `profile`, `email`, `groups`, `offline_access` and the
    /// declared ones).
    scopes_supported: Vec<String>,
    /// `["code"]` when `[login]` is set; otherwise empty, because the
    /// authorization endpoint then refuses every request. RFC 8414 makes
    /// the member required, so it is present.
    response_types_supported: Vec<String>,
    /// `["S256"]` (RFC 7636): PKCE is required of every client.
    code_challenge_methods_supported: Vec<String>,
    /// URL of the UserInfo endpoint (OpenID Connect Core §5.3).
    userinfo_endpoint: String,
    /// URL of the RP-initiated logout endpoint.
    end_session_endpoint: String,
    /// URL of the revocation endpoint (RFC 7009).
    revocation_endpoint: String,
    /// How clients authenticate at the revocation endpoint: as at the
    /// token endpoint.
    revocation_endpoint_auth_methods_supported: Vec<String>,
    /// `true` (RFC 9207): every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: bool,
    /// `["public"]`; required by OIDC Discovery.
    subject_types_supported: Vec<String>,
    /// The algorithms of the keys that sign: id tokens are signed like
    /// access tokens (with `typ` `JWT`).
    id_token_signing_alg_values_supported: Vec<String>,
    /// Claims that may appear in access tokens and id tokens.
    claims_supported: Vec<String>,
    /// Human-readable API documentation.
    service_documentation: String,
    /// `true` when `[client_metadata_documents] allow` lets URLs name
    /// clients (Client ID Metadata Documents); absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    client_id_metadata_document_supported: Option<bool>,
    /// `true` when `[login]` is set (OpenID Connect Back-Channel Logout
    /// 1.0 §2.1): signing out POSTs a logout token to each client of the
    /// session with a `backchannel_logout_uri`.
    #[oai(skip_serializing_if_is_none)]
    backchannel_logout_supported: Option<bool>,
    /// `true` when `[login]` is set: logout tokens carry `sid`, the
    /// session her id tokens named.
    #[oai(skip_serializing_if_is_none)]
    backchannel_logout_session_supported: Option<bool>,
}

#[derive(ApiResponse)]
pub enum DiscoveryResponse {
    /// The server's metadata (RFC 8414 §3.2).
    #[oai(status = 200)]
    Ok(Json<Discovery>),
}

pub(super) struct DiscoveryApi {
    pub state: Arc<AppState>,
}

#[OpenApi]
impl DiscoveryApi {
    /// OpenID Connect discovery document
    ///
    /// Where the token endpoint and the keys are, and what they support.
    #[oai(
        path = "/.well-known/openid-configuration",
        method = "get",
        tag = "ApiTags::Discovery",
        operation_id = "openid_configuration",
        transform = "public_metadata"
    )]
    async fn openid_configuration(&self) -> DiscoveryResponse {
        DiscoveryResponse::Ok(Json(self.document()))
    }

    /// OAuth 2.0 authorization server metadata (RFC 8414)
    ///
    /// The same document as `/.well-known/openid-configuration`.
    #[oai(
        path = "/.well-known/oauth-authorization-server",
        method = "get",
        tag = "ApiTags::Discovery",
        operation_id = "oauth_authorization_server",
        transform = "public_metadata"
    )]
    async fn oauth_authorization_server(&self) -> DiscoveryResponse {
        DiscoveryResponse::Ok(Json(self.document()))
    }
}

impl DiscoveryApi {
    fn document(&self) -> Discovery {
        let config = self.state.config();
        let issuer = self.state.issuer(&config);
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut claims = strings(&crate::config::REGISTERED_CLAIMS);
        for claim in ["auth_time", "nonce", "at_hash", "sid"]
            .into_iter()
            .map(str::to_owned)
            .chain(
                config
                    .registry
                    .identity_scopes()
                    .iter()
                    .flat_map(|s| s.claims.iter().cloned()),
            )
        {
            if !claims.contains(&claim) {
                claims.push(claim);
            }
        }
        let auth_methods: Vec<String> = tollgate_core::AuthMethod::ALL
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
        let login = config.registry.login().is_some();
        Discovery {
            authorization_endpoint: format!("{issuer}/connect/authorize"),
            token_endpoint: format!("{issuer}{}", super::scope::TOKEN_PATH),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            introspection_endpoint: format!("{issuer}{}", super::scope::INTROSPECT_PATH),
            introspection_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
            ]),
            dpop_signing_alg_values_supported: algorithms(),
            service_documentation: format!("{issuer}/docs"),
            grant_types_supported: tollgate_core::GrantType::ALL
                .iter()
                .map(|g| g.as_str())
                .chain([tollgate_core::JWT_BEARER_GRANT])
                .map(str::to_owned)
                .collect(),
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            tls_client_certificate_bound_access_tokens: true,
            token_endpoint_auth_signing_alg_values_supported: algorithms(),
            scopes_supported: config
                .registry
                .scopes_supported()
                .iter()
                .chain(config.registry.identity_scopes().iter().map(|s| &s.name))
                .map(|s| s.to_string())
                .collect(),
            response_types_supported: match login {
                true => strings(&["code"]),
                false => Vec::new(),
            },
            code_challenge_methods_supported: strings(&["S256"]),
            userinfo_endpoint: format!("{issuer}{}", super::scope::USERINFO_PATH),
            end_session_endpoint: format!("{issuer}{}", super::scope::ENDSESSION_PATH),
            revocation_endpoint: format!("{issuer}{}", super::scope::REVOKE_PATH),
            authorization_response_iss_parameter_supported: true,
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: self
                .state
                .keys()
                .algorithms(self.state.clock.now())
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            claims_supported: claims,
            client_id_metadata_document_supported: config
                .registry
                .metadata_documents()
                .enabled()
                .then_some(true),
            backchannel_logout_supported: login.then_some(true),
            backchannel_logout_session_supported: login.then_some(true),
            issuer,
        }
    }
}

/// The asymmetric algorithms client assertions and DPoP proofs may use.
fn algorithms() -> Vec<String> {
    tollgate_jose::jose::advertised_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}
