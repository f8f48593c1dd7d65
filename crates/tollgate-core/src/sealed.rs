//! What tollgate hands out and must read back unchanged without keeping
//! it anywhere — authorization codes, refresh tokens, the browser session,
//! a sign-in in progress — sealed with AES-256-GCM (aws-lc-rs, random
//! 96-bit nonces) under one key kept beside the signing keys and shared by
//! replicas as they are. The purpose is the associated data, so a value
//! sealed as one thing never opens as another (a session as a code, say).
//! Single use and revocation are the replay store's, not this module's.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long a sealing key is, in bytes.
pub const KEY_LEN: usize = 32;

/// What a sealed value is; each kind opens only as itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An authorization code.
    Code,
    /// A refresh token.
    RefreshToken,
    /// The browser session cookie.
    Session,
    /// An authorization request waiting for sign-in or consent (a form's
    /// hidden field).
    Pending,
    /// A sign-in at an upstream provider under way: the state, nonce and
    /// PKCE verifier the browser's return must match (a cookie).
    Upstream,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Code => b"tollgate code v1",
            Self::RefreshToken => b"tollgate refresh token v1",
            Self::Session => b"tollgate session v1",
            Self::Pending => b"tollgate pending request v1",
            Self::Upstream => b"tollgate upstream sign-in v1",
        }
    }
}

/// The key that seals. Its `Debug` shows nothing of it.
pub struct SealingKey(RandomizedNonceKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

impl SealingKey {
    /// A key from its 32 bytes.
    pub fn new(bytes: &[u8; KEY_LEN]) -> Self {
        Self(RandomizedNonceKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key"))
    }

    /// `value` as JSON, sealed for `purpose`: base64url of nonce ‖
    /// ciphertext ‖ tag.
    pub fn seal<T: Serialize>(&self, purpose: Purpose, value: &T) -> String {
        let mut data = serde_json::to_vec(value).expect("plain data serializes");
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(purpose.label()), &mut data)
            .expect("AES-GCM seals any length tollgate makes");
        let mut out = Vec::with_capacity(NONCE_LEN + data.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&data);
        B64.encode(out)
    }

    /// The value sealed for `purpose`, if `sealed` is one of ours, intact,
    /// and of that purpose; `None` for anything else, with no reason why.
    pub fn open<T: DeserializeOwned>(&self, purpose: Purpose, sealed: &str) -> Option<T> {
        // A sealed value of tollgate's is never this long; refuse before
        // decoding what an attacker sent.
        if sealed.len() > 8 * 1024 {
            return None;
        }
        let mut data = B64.decode(sealed).ok()?;
        if data.len() < NONCE_LEN {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&data[..NONCE_LEN]).ok()?;
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(purpose.label()), &mut data[NONCE_LEN..])
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_purpose() {
        let key = SealingKey::new(&[7; KEY_LEN]);
        let other = SealingKey::new(&[8; KEY_LEN]);
        let sealed = key.seal(Purpose::Code, &("alice", 42));
        assert_eq!(
            key.open::<(String, u32)>(Purpose::Code, &sealed),
            Some(("alice".into(), 42))
        );
        assert_eq!(key.open::<(String, u32)>(Purpose::Session, &sealed), None);
        assert_eq!(other.open::<(String, u32)>(Purpose::Code, &sealed), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(key.open::<(String, u32)>(Purpose::Code, &tampered), None);
        assert_eq!(key.open::<(String, u32)>(Purpose::Code, "%%%"), None);
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let key = SealingKey::new(&[7; KEY_LEN]);
        assert_ne!(key.seal(Purpose::Code, &1), key.seal(Purpose::Code, &1));
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = SealingKey::new(&[7; KEY_LEN]);
        assert_eq!(format!("{key:?}"), "SealingKey([redacted])");
    }
}
