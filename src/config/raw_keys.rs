//! The serde mirror of the `[keys]` section of `identity.toml`: automatic
//! keys, or declared ones (`[[keys.signing]]`: a key file or a key in a
//! PKCS#11 token). Shape only, as in `raw`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::{RawDateTime, RawDuration};

/// `[keys]`: the signing keys. Automatic by default: tollgate creates,
/// rotates and deletes keys in `dir`. Listing `[[keys.signing]]` switches
/// to declared keys: tollgate never writes a key, and every replica reading
/// the same file agrees on the active one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKeys {
    /// Automatic keys: their folder, relative to this file. Created 0700
    /// with key files 0600. Default `"keys"`.
    #[serde(default)]
    pub dir: Option<String>,

    /// Automatic keys: the algorithm of new keys. Default `"ES256"`.
    /// Changing it announces a key of the new algorithm, which takes over
    /// after `announce`.
    #[serde(default)]
    pub algorithm: Option<RawAlgorithm>,

    /// Automatic keys: how long each key signs. Default `"90d"`.
    #[serde(default)]
    pub rotate_every: Option<RawDuration>,

    /// Automatic keys: how long a new key is published in the JWKS before
    /// it signs, so APIs that cache the JWKS know it in time. Default
    /// `"14d"`; shorter than `rotate_every`.
    #[serde(default)]
    pub announce: Option<RawDuration>,

    /// Automatic keys: how long a key stays published after it stopped
    /// signing, so tokens it signed still validate. Default `"14d"`.
    #[serde(default)]
    pub retain: Option<RawDuration>,

    /// `Cache-Control: max-age` of the JWKS, and the cache time `check`
    /// assumes of APIs when it warns about keys announced too late.
    /// Default `"1h"`.
    #[serde(default)]
    pub jwks_max_age: Option<RawDuration>,

    /// The key that seals what people's sign-in hands out (codes, refresh
    /// tokens, the session cookie): a file of at least 32 random bytes
    /// (`openssl rand 32 > sealing.key`), relative to this file, shared by
    /// replicas. With automatic keys it defaults to `sealing.key` in
    /// `dir`, made on first start; with declared keys people sign in only
    /// once it is set.
    #[serde(default)]
    pub sealing_key_file: Option<String>,

    /// Declared keys. When present, tollgate signs with these only.
    #[serde(default)]
    pub signing: Vec<RawSigningKey>,
}

/// `[[keys.signing]]`: one declared key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSigningKey {
    /// Unencrypted PKCS#8 PEM private key (P-256, Ed25519 or RSA), relative
    /// to this file; `tollgate keys generate` writes one. Published in the
    /// JWKS from the moment it is listed. Exactly one of `file` and
    /// `pkcs11`.
    #[serde(default)]
    pub file: Option<String>,
    /// A key in a hardware token (PKCS#11), which never leaves it:
    /// tollgate reads its public key and signs through the module.
    /// `tollgate keys generate --pkcs11` makes one. Exactly one of `file`
    /// and `pkcs11`.
    #[serde(default)]
    pub pkcs11: Option<RawPkcs11>,
    /// Signs from this instant until a later-activated key takes over.
    pub activate_at: RawDateTime,
    /// Dropped from the JWKS at this instant; never signs again.
    #[serde(default)]
    pub retire_at: Option<RawDateTime>,
}

/// `pkcs11 = { module, token, label, pin_file | pin_env }`: where a
/// hardware key is and how to log in to its token.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPkcs11 {
    /// The PKCS#11 module (shared library) of the token, e.g.
    /// `"/usr/lib/softhsm/libsofthsm2.so"`.
    pub module: String,
    /// The token's label.
    pub token: String,
    /// The key pair's label (`CKA_LABEL` of its private and public key).
    pub label: String,
    /// A file holding the user PIN (one trailing newline is ignored),
    /// relative to this file; keep it 0600. Exactly one of `pin_file` and
    /// `pin_env`: the PIN itself is never written in this file.
    #[serde(default)]
    pub pin_file: Option<String>,
    /// The environment variable holding the user PIN. Exactly one of
    /// `pin_file` and `pin_env`.
    #[serde(default)]
    pub pin_env: Option<String>,
}

/// A JWS algorithm name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub(super) enum RawAlgorithm {
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (2048-bit keys).
    RS256,
}
