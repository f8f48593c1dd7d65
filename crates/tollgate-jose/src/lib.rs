//! The JOSE rules tollgate's server and its validator share: which
//! algorithms and keys are acceptable ([`jose`]), DPoP proofs ([`dpop`]),
//! single use of identifiers ([`replay`]), the clock ([`clock`]),
//! SHA-256 ([`digest`]) and how much of a client certificate chain is
//! looked at ([`chain`]).
//!
//! *Architecture invariant:* no IO and no web framework: what this crate
//! decides depends only on its arguments and the time it is given.

pub mod chain;
pub mod clock;
pub mod digest;
pub mod dpop;
pub mod jose;
pub mod replay;
