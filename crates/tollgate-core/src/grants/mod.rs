//! The grants, each a module with one entry point (`grant`) that takes
//! an authenticated client and the request and decides what the token
//! holds: `client_credentials` (also the platform token as the grant,
//! RFC 7523 §2.1), `exchange` (RFC 8693), `authorization_code` and
//! `refresh_token` (a person's tokens; what they share is `signed_in`).
//! What every grant shares — the scope rule, RFC 8707's narrowing, the
//! `Grant` they return — is `grant`.

pub(crate) mod authorization_code;
pub(crate) mod client_credentials;
pub mod exchange;
pub(crate) mod refresh_token;
pub(crate) mod signed_in;
