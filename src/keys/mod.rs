//! Signing keys: the key material ([`signing`]: ES256, EdDSA, RS256, the
//! RFC 7638 `kid`), the schedule of what is published and what signs at an
//! instant ([`ring`], pure), automatic rotation in a folder ([`auto`]), the
//! files ([`store`]), and signing concurrent requests' tokens back to back
//! ([`batch`]).
//!
//! Two modes, chosen in `[keys]`: automatic (tollgate creates, rotates and
//! deletes keys in `keys.dir`) and declared (`[[keys.signing]]` lists key
//! files with their activation; tollgate never writes a key, and the active
//! key is a function of the file and the clock, so replicas agree).

pub(crate) mod auto;
pub(crate) mod batch;
mod ring;
mod signing;
pub mod store;

pub(crate) use ring::{Entry, KeyRing};
pub use signing::{Algorithm, Jwk, SigningKey};

/// Why key material was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Format(String),
    #[error("the key could not be used for signing ({0})")]
    Unusable(String),
}

/// An instant as RFC 3339 (`2026-11-25T21:07:02Z`), for logs and messages.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
