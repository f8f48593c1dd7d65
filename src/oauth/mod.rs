//! The protocol core: RFC 6749 errors, scopes, clients, request parsing,
//! client authentication and the client_credentials grant.
//!
//! *Architecture invariant:* nothing here imports poem or does IO; the time
//! is passed in. The endpoints module adapts this to HTTP.

pub mod client;
pub mod client_auth;
pub mod error;
pub mod grant;
pub mod request;
pub mod scope;
pub mod secret_cache;
pub mod throttle;

pub use client::{AuthMethod, Client, ClientCredentials, ClientId, GrantType, PresentedSecret};
pub use error::{ErrorCode, OAuthError};
pub use grant::Grant;
pub use request::{TokenRequest, parse_token_request};
pub use scope::{ScopeSet, ScopeToken};
