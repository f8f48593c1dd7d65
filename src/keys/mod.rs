//! Signing keys: the key material ([`signing`]: ES256, EdDSA, RS256, the
//! RFC 7638 `kid`), the schedule of what is published and what signs at an
//! instant ([`ring`], pure), automatic rotation in a folder ([`auto`]), the
//! files ([`store`]), signing concurrent requests' tokens back to back
//! ([`batch`]), and keys that stay in a PKCS#11 token (the folder
//! [`pkcs11`]).
//!
//! Two modes, chosen in `[keys]`: automatic (tollgate creates, rotates and
//! deletes keys in `keys.dir`) and declared (`[[keys.signing]]` lists key
//! files or keys in tokens with their activation; tollgate never writes a
//! key file, and the active key is a function of the file and the clock,
//! so replicas agree).

pub(crate) mod auto;
pub(crate) mod batch;
pub(crate) mod pkcs11;
mod public;
mod ring;
pub(crate) mod sealing;
mod signing;
pub(crate) mod store;

pub use pkcs11::{PinSource, Pkcs11Key};
pub use public::Algorithm;
pub(crate) use public::Jwk;
pub(crate) use ring::{Entry, KeyRing};
pub use signing::SigningKey;

/// Why key material was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Format(String),
    #[error("the key could not be used for signing ({0})")]
    Unusable(String),
    /// A key in hardware cannot sign now (token away, session lost, PIN
    /// refused); it is tried again after `retry`.
    #[error("{why}")]
    Unavailable {
        why: String,
        retry: std::time::Duration,
    },
}

/// An instant as RFC 3339 (`2026-11-25T21:07:02Z`), for logs and messages.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
