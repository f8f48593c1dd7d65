//! The grants, each a module with one entry point (`grant`) that takes
//! an authenticated client and the request and decides what the token
//! holds: `client_credentials` (also the platform token as the grant,
//! RFC 7523 §2.1) and `exchange` (RFC 8693). What they share — the scope
//! rule, RFC 8707's narrowing, the `Grant` they return — is `grant`.

pub(crate) mod client_credentials;
pub mod exchange;
