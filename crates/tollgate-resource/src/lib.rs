//! Validate tollgate's access tokens in an API.
//!
//! tollgate issues RFC 9068 JWT access tokens. This crate is what an API
//! needs to accept them, and nothing of the server: [`TokenValidator`]
//! finds the authority's keys through discovery and JWKS (cached as the
//! JWKS says, refetched for a new `kid`: [`jwks`]), checks the signature
//! under the key's own algorithm, `typ`, `iss`, `exp`, `nbf`, optionally
//! `aud`, and the scopes a request needs (a refusal lists them all, for
//! step-up); DPoP-bound tokens (RFC 9449) are accepted only with a proof
//! of the request, each proof once; certificate-bound tokens (RFC 8705)
//! only on a connection that presented that certificate
//! ([`ClientCertificate`]). A refusal is a [`Rejection`] that knows its
//! RFC 6750 status and challenge.
//! [`ResourceMetadata`] is the resource's RFC 9728 metadata (which
//! authorization server guards it: what an MCP client reads first), and
//! adds `resource_metadata` to the 401 challenges.
//!
//! The core is framework-neutral; thin adapters sit behind features:
//! `poem` (an endpoint middleware) and `tower` (a `Layer` for axum, tonic
//! and hyper); given the metadata, both serve it at its well-known path.
//! An API that verifies client certificates itself keeps their chains
//! within the server's limits with the `rustls` feature (the `tls` module).
//!
//! ```no_run
//! # async fn f() {
//! use tollgate_resource::TokenValidator;
//!
//! let validator = TokenValidator::new("http://localhost:5001", Some("api1"));
//! match validator.validate(Some("Bearer eyJ...")).await {
//!     Ok(claims) => println!("called by {}", claims["client_id"]),
//!     Err(refused) => println!("{} {:?}", refused.status(), refused.www_authenticate()),
//! }
//! # }
//! ```
#![deny(missing_docs)]

mod certificate;
pub mod forwarded;
#[cfg(any(feature = "poem", feature = "tower"))]
mod guard;
mod http_client;
pub mod jwks;
mod metadata;
#[cfg(feature = "poem")]
pub mod poem;
mod rejection;
#[cfg(feature = "rustls")]
pub mod tls;
#[cfg(feature = "tower")]
pub mod tower;
mod validator;

pub use certificate::ClientCertificate;
#[cfg(any(feature = "poem", feature = "tower"))]
pub use guard::RequiredScopes;
pub use metadata::{InvalidResource, ResourceMetadata};
pub use rejection::Rejection;
pub use validator::{Claims, TokenValidator};
