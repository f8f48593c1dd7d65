//! tollgate: an OAuth 2.0 authorization server whose whole state is one
//! declarative file, `identity.toml`.
//!
//! The code map, and what each part deliberately does not do, is in
//! `ARCHITECTURE.md` at the top of the repository. In short: the protocol
//! is the `tollgate-core` crate (with `tollgate-jose` beneath it); this
//! crate is the server around it — `config` (the file), `keys`
//! (signing keys), `http` (poem), `observe` (audit, logs, metrics),
//! `runtime` (the core's ports), [`cli`] (the commands) — and
//! `tollgate-resource` is what API authors take alone.

mod backchannel;
mod cimd;
pub mod cli;
mod config;
mod http;
mod keys;
mod observe;
mod runtime;
mod server;
mod state;
mod upstream;

pub use config::{
    Config, ConfigError, KeyMode, Overrides, Problem, check, included_schema_json, schema_json,
    validation_paths_agree,
};
pub use keys::{Algorithm, PinSource, Pkcs11Key, SigningKey, rfc3339, store::write_new};
pub use runtime::allocator;
pub use server::{Builder, Server};
/// The validator for API authors (`tollgate-resource`), also reachable
/// as `tollgate::resource`; an API takes that crate alone.
pub use tollgate_resource as resource;
