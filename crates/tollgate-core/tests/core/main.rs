//! The protocol core tested in-process, as kanidm tests its OAuth2 core:
//! no server, no HTTP, a fixed time, fake ports. Each module is one grant
//! or one client authentication method, table-driven; every case asserts
//! the RFC error code and the audit reason. `reasons` checks that the
//! tables reach every reason the core can give.

mod support;

mod audit;
mod authorize;
mod certificates;
mod client_credentials;
mod code_grant;
mod endsession;
mod exchange;
mod introspection;
mod jwt_bearer;
mod key_rotation;
mod private_key_jwt;
mod reasons;
mod refresh;
mod request;
mod revocation;
mod secrets;
mod signin;
mod standing;
mod trusted_subjects;
mod upstream;
