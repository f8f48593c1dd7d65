//! The protocol core: the registry of clients, scopes and resources, RFC
//! 6749 errors and refusals, request parameters, client authentication (an
//! open set of methods), the client_credentials grant, RFC 9068 claims,
//! and the token request as one operation that asks [`Ports`] for what it
//! cannot do itself (slow verification, signatures).
//!
//! *Architecture invariant:* nothing here imports poem or the config
//! module, or does IO; the time is passed in.

mod access_token;
pub mod auth;
pub mod authorize;
mod chains;
mod client;
pub mod code;
mod dn;
pub mod endsession;
mod error;
mod federation;
mod grant;
mod grants;
pub mod metadata_documents;
pub use grants::exchange;
pub mod id_token;
pub mod introspection;
pub mod logout_token;
pub mod params;
pub mod people;
pub mod person;
mod ports;
mod reason;
mod refusal;
mod registry;
pub mod revocation;
mod rules;
mod scope;
pub mod sealed;
mod secret_cache;
pub mod session;
pub mod signin;
pub mod spiffe;
mod standing;
#[cfg(test)]
mod test_ports;
mod throttle;
pub mod token_request;
mod trust;
pub mod upstream;
pub mod userinfo;

pub use access_token::TokenType;
pub use auth::AuthMethod;
pub use auth::secret::{argon2_run, hash_secret, padding_params, warm_up};
pub use client::{
    Argon2Cost, Client, ClientId, ClientSecret, DEFAULT_REFRESH_TOKEN_LIFETIME, GrantType,
    JWT_BEARER_GRANT, PresentedSecret, SecretHash, Secrets,
};
pub use dn::DistinguishedName;
pub use error::{Challenge, ErrorCode, OAuthError, Retry};
pub use federation::{
    ClaimCondition, CopiedClaim, FederatedRule, KeySource, SubjectPattern, TrustedIssuer,
};
pub use grant::{Delegation, Grant};
pub use people::{IdentityScope, Login, User, Username};
pub use ports::{Context, PortError, Ports, Services, TokenKind};
pub use refusal::{Reason, Refusal, RefusedRequest};
pub use registry::{ApiResource, ApiScope, Registry};
pub use rules::{CertificateRule, ExchangeRule, SubjectIssuer};
pub use scope::{ScopeError, ScopeSet, ScopeToken};
pub use secret_cache::CacheStats;
pub use standing::OwnTokens;
pub use throttle::ThrottleSettings;
pub use trust::ChainVerdicts;
pub use trust::{AnchorSet, CertificateChain, TrustAnchors};
