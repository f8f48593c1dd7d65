//! The commands other than `serve`: what they print and their exit codes.
//! `src/main.rs` parses the command line and calls these.

mod check;
mod clients;
mod diff;
mod healthcheck;
mod keys;
mod secrets;
mod serve;
mod users;

pub use crate::observe::logging::LogFormat;
pub use check::{Format, check};
pub use clients::{Action as ClientsAction, clients, list as list_clients};
pub use diff::diff;
pub use healthcheck::healthcheck;
pub use keys::{generate_client_key, generate_key, generate_pkcs11_key};
pub use secrets::{generate_secret, hash};
pub use serve::serve;
pub use users::{Action as UsersAction, list as list_users, users};

/// `1 warning`, `2 warnings`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
