//! The serde mirror of `identity.toml`: shape only, no cross-field rules.
//!
//! Every struct denies unknown fields so a misspelt key is an error, never a
//! silently ignored setting. The JSON schema is generated from these types,
//! so the doc comments here are what editors show on hover.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) use super::duration::{RawDateTime, RawDuration};
pub(super) use super::raw_keys::{RawAlgorithm, RawKeys, RawPkcs11};
pub(super) use super::raw_people::{RawIdentityScope, RawLogin, RawUser};
pub(super) use super::raw_server::{RawReplay, RawServer, RawThrottle, RawTls};

/// The whole `identity.toml` file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "tollgate identity.toml")]
pub(super) struct RawConfig {
    /// Files whose `[[clients]]`, `[[api_scopes]]`, `[[api_resources]]`,
    /// `[[trusted_issuers]]` and `[[users]]` join this file's, as globs relative to this
    /// file, e.g. `["clients.d/*.toml"]`: one file per team. Ids are unique
    /// across all files; each file is reloaded when it changes.
    #[serde(default)]
    pub include: Vec<String>,

    /// The `iss` of every token and the base of every advertised URL, e.g.
    /// `"https://id.example.com"`. Default: `http://` + the listen address.
    /// Set it in production.
    #[serde(default)]
    pub issuer: Option<String>,

    /// Network settings.
    #[serde(default)]
    pub server: RawServer,

    /// Signing keys.
    #[serde(default)]
    pub keys: RawKeys,

    /// The scopes an API can require, e.g. `api1`.
    #[serde(default)]
    pub api_scopes: Vec<RawApiScope>,

    /// Optional audiences that group scopes: a token granted any of a
    /// resource's scopes carries the resource's name in `aud`.
    #[serde(default)]
    pub api_resources: Vec<RawApiResource>,

    /// The registered clients.
    #[serde(default)]
    pub clients: Vec<RawClient>,

    /// Platforms whose tokens prove a workload's identity (Kubernetes,
    /// GitHub Actions, SPIFFE): `[[clients.federated]]` names them.
    #[serde(default)]
    pub trusted_issuers: Vec<RawTrustedIssuer>,

    /// SPIFFE trust domains: the X.509 bundle that the certificates of each
    /// domain's workloads (X.509-SVIDs) chain to.
    #[serde(default)]
    pub trust_domains: Vec<RawTrustDomain>,

    /// Throttling of failed client authentication.
    #[serde(default)]
    pub throttle: RawThrottle,

    /// Where used assertion and DPoP proof identifiers are kept.
    #[serde(default)]
    pub replay: RawReplay,

    /// Clients named by a URL (Client ID Metadata Documents).
    #[serde(default)]
    pub client_metadata_documents: super::raw_cimd::RawMetadataDocuments,

    /// Sign-in for people; absent, no one signs in.
    #[serde(default)]
    pub login: Option<RawLogin>,

    /// People who sign in with a password.
    #[serde(default)]
    pub users: Vec<RawUser>,

    /// Scopes that release users' extra claims, beside the built-in
    /// `openid`, `profile`, `email`, `groups` and `offline_access`.
    #[serde(default)]
    pub identity_scopes: Vec<RawIdentityScope>,
}

/// A file named by `include`: the lists of the main file, nothing else.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "tollgate included file (include = [...] of identity.toml)")]
pub(super) struct RawIncluded {
    /// The scopes an API can require.
    #[serde(default)]
    pub api_scopes: Vec<RawApiScope>,
    /// Audiences that group scopes.
    #[serde(default)]
    pub api_resources: Vec<RawApiResource>,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<RawClient>,
    /// Platforms whose tokens prove a workload's identity.
    #[serde(default)]
    pub trusted_issuers: Vec<RawTrustedIssuer>,
    /// People who sign in with a password.
    #[serde(default)]
    pub users: Vec<RawUser>,
}

/// `[[api_scopes]]`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApiScope {
    /// The scope value clients request, e.g. `"api1"` (RFC 6749 §3.3
    /// characters: printable ASCII except space, `"` and `\`).
    pub name: String,
    /// Human-readable name, shown in docs.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The file it is in: 0 the main file, then the included files in
    /// order. Not in the file: set where included files are merged.
    #[serde(skip)]
    pub origin: usize,
}

/// `[[api_resources]]`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApiResource {
    /// The audience value, e.g. `"urn:orders"` or `"https://api.example.com"`.
    pub name: String,
    /// Scopes (from `api_scopes`) that belong to this resource.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Secrets with which the API calls the introspection endpoint (HTTP
    /// Basic or post, its `name` as the client id).
    #[serde(default)]
    pub secrets: Vec<RawSecret>,
    /// The file it is in, as for scopes.
    #[serde(skip)]
    pub origin: usize,
}

/// `[[clients]]`
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    /// The client's identifier, unique in the file.
    pub client_id: String,
    /// Grant types the client may use. Default `["client_credentials"]`;
    /// `authorization_code` (people sign in) and `refresh_token` (with it).
    #[serde(default)]
    pub allowed_grant_types: Option<Vec<String>>,
    /// Scopes the client may request: each declared in `api_scopes`, or an
    /// identity scope (`openid`, `profile`, `email`, `groups`,
    /// `offline_access`, or one of `[[identity_scopes]]`).
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// Lifetime of its access tokens: integer seconds or `"90s"`, `"15m"`,
    /// `"1h"`, `"7d"`. Default `"1h"`.
    #[serde(default)]
    pub access_token_lifetime: Option<RawDuration>,
    /// A disabled client gets `invalid_client`. Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Extra claims copied into every token of this client, e.g.
    /// `{ tenant = "acme" }`. Registered claims may not be shadowed.
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// The client's secrets; any one that is not expired authenticates it.
    #[serde(default)]
    pub secrets: Vec<RawSecret>,
    /// `private_key_jwt`: the client's public keys, inline, as a JWK Set:
    /// `{ keys = [ { kty = "EC", crv = "P-256", x = "...", y = "..." } ] }`.
    /// At most one of `jwks`, `jwks_uri`, `jwks_file`.
    #[serde(default)]
    pub jwks: Option<RawJwks>,
    /// `private_key_jwt`: where the client publishes its JWK Set (https,
    /// or http on loopback); fetched and cached.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// `private_key_jwt`: a JWK Set file, relative to this file.
    #[serde(default)]
    pub jwks_file: Option<String>,
    /// Workload identity: the platform tokens that are this client.
    #[serde(default)]
    pub federated: Vec<RawFederated>,
    /// Issue tokens to this client only with a DPoP proof (RFC 9449).
    /// Default `false`.
    #[serde(default)]
    pub require_dpop: Option<bool>,
    /// Tokens issued before this instant are no longer active
    /// (introspection): revoke every earlier token with one edit.
    #[serde(default)]
    pub tokens_valid_after: Option<RawDateTime>,
    /// Token exchange (RFC 8693): which tokens this client may exchange,
    /// and for which APIs. Needs the grant type
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[serde(default)]
    pub token_exchange: Vec<RawTokenExchange>,
    /// `tls_client_auth` (RFC 8705): the subject of the client's
    /// certificate, in RFC 4514 form (`"CN=ledger.acme.test,OU=Finance,O=Acme,C=US"`),
    /// compared as a DN; the chain must verify to `[server.tls] client_ca`.
    /// One certificate rule per client.
    #[serde(default)]
    pub tls_client_auth_subject_dn: Option<String>,
    /// `tls_client_auth`: a DNS name among the certificate's subject
    /// alternative names; the chain must verify to `client_ca`.
    #[serde(default)]
    pub tls_client_auth_san_dns: Option<String>,
    /// `tls_client_auth`: a URI among the certificate's subject alternative
    /// names. A SPIFFE ID (`"spiffe://example.org/ns/payments/sa/api"`,
    /// `*` matching within one segment of the path) takes an
    /// X.509-SVID: exactly one URI SAN, chained to the bundle of its
    /// `[[trust_domains]]` entry. Any other URI chains to `client_ca`.
    #[serde(default)]
    pub tls_client_auth_san_uri: Option<String>,
    /// `self_signed_tls_client_auth` (RFC 8705 §2.2): the certificate's
    /// public key is one of the client's `jwks`, `jwks_uri` or `jwks_file`
    /// keys. Default `false`.
    #[serde(default)]
    pub self_signed_tls_client_auth: Option<bool>,
    /// For people: the name the consent page shows. Default: the
    /// `client_id`.
    #[serde(default)]
    pub display_name: Option<String>,
    /// A public client (a browser or native app, RFC 6749 §2.1): no
    /// secret, key or certificate; it sends only its `client_id`, and PKCE
    /// binds its codes. Only `authorization_code` and `refresh_token`.
    /// Default `false`.
    #[serde(default)]
    pub public: Option<bool>,
    /// Where codes may be sent (`authorization_code`): absolute https URLs,
    /// or http for development; a loopback one (`http://127.0.0.1`,
    /// `http://[::1]`, `http://localhost`) matches on any port. No
    /// fragment.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where signing out (RP-Initiated Logout) may send the browser back;
    /// the same rules as `redirect_uris`.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where tollgate POSTs a logout token when a person who signed in to
    /// this client signs out (OpenID Connect Back-Channel Logout 1.0), e.g.
    /// `"https://app.example.com/backchannel-logout"`: https, or http to a
    /// loopback host; no fragment. Only with `authorization_code`.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Ask the person before a code is issued. Default `false`.
    #[serde(default)]
    pub require_consent: Option<bool>,
    /// Refresh tokens stop working this long after the sign-in they came
    /// from (absolute, not sliding). Default `"30d"`.
    #[serde(default)]
    pub refresh_token_lifetime: Option<RawDuration>,
    /// Only people of one of these groups may sign in to this client, e.g.
    /// `["admins"]`. Default: everyone.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// The `[[login.providers]]` (by name) people may sign in to this
    /// client through, e.g. `["corp"]`, `[]` for none: the sign-in page
    /// offers only these. The password form of `[[users]]` is not a
    /// provider and is not affected. Default: every provider.
    #[serde(default)]
    pub login_providers: Option<Vec<String>>,
}

/// `[[clients.token_exchange]]`: one kind of subject token the client may
/// exchange, and for what.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTokenExchange {
    /// Whose tokens: `"self"` (tokens tollgate issued) or the `name` of a
    /// `[[trusted_issuers]]` entry.
    pub subject_issuer: String,
    /// The subject token's `aud` must hold this, e.g.
    /// `"https://orders.example.com"`: the API the token was sent to.
    pub subject_audience: String,
    /// The `[[api_resources]]` names the new token may be for.
    pub resources: Vec<String>,
}

/// `[[trust_domains]]`: a SPIFFE trust domain and its X.509 bundle.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrustDomain {
    /// The trust domain, as in `spiffe://<name>/...`, e.g. `"example.org"`.
    pub name: String,
    /// Its CA certificates (PEM), relative to this file, e.g. what SPIRE's
    /// `spire-server bundle show` prints; re-read when it changes.
    #[serde(default)]
    pub bundle_file: Option<String>,
}

/// A JWK Set of public keys.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub(super) struct RawJwks {
    /// The public keys (RFC 7517): EC P-256/P-384, OKP Ed25519 or RSA;
    /// never private members such as `d`.
    pub keys: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// `[[clients.federated]]`: the platform tokens that are this client.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFederated {
    /// The `name` of a `[[trusted_issuers]]` entry.
    pub issuer: String,
    /// The token's `sub`, exactly, or a pattern where `*` matches any run
    /// of characters, e.g. `"repo:acme/app:ref:refs/heads/*"`.
    pub subject: String,
    /// Claims the token must also have, each equal to its value: a
    /// top-level claim name (`repository = "acme/app"`) or an RFC 6901
    /// JSON Pointer into nested objects (`"/kubernetes.io/namespace" =
    /// "billing"`).
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// Claims of the platform token copied into the access token, under
    /// the names given: `{ repo = "repository", ns =
    /// "/kubernetes.io/namespace" }` (a claim name or an RFC 6901 JSON
    /// Pointer). A claim the token lacks is left out; registered claim
    /// names (`sub`, `aud`, ...) cannot be used.
    #[serde(default)]
    pub copy_claims: BTreeMap<String, String>,
}

/// `[[trusted_issuers]]`: a platform whose tokens prove a workload.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrustedIssuer {
    /// What `[[clients.federated]]` entries call it, e.g. `"cluster"`.
    pub name: String,
    /// The `iss` of its tokens, e.g.
    /// `"https://kubernetes.default.svc.cluster.local"` or
    /// `"https://token.actions.githubusercontent.com"`.
    pub issuer: String,
    /// Its JWK Set URL. Without `jwks_uri` and `jwks_file`, the keys come
    /// from the issuer's discovery document.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Its JWK Set as a file, relative to this file (e.g. the output of
    /// `kubectl get --raw /openid/v1/jwks`).
    #[serde(default)]
    pub jwks_file: Option<String>,
    /// The `aud` its tokens must hold. Default: our issuer.
    #[serde(default)]
    pub audience: Option<String>,
    /// The longest token it may issue (`exp - iat`). Default `"1h"`.
    #[serde(default)]
    pub max_token_lifetime: Option<RawDuration>,
}

/// `[[clients.secrets]]`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecret {
    /// Argon2id PHC string from `tollgate hash-secret`, e.g.
    /// `"$argon2id$v=19$m=19456,t=2,p=1$..."`. Never the secret itself.
    pub hash: String,
    /// Optional expiry (RFC 3339 date-time, e.g. `2027-01-01T00:00:00Z`):
    /// from then on the secret no longer authenticates.
    #[serde(default)]
    pub expires: Option<RawDateTime>,
}
