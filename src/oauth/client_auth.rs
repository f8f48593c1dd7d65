//! Client authentication: the presented secret against the stored Argon2id
//! hashes. Unknown clients are verified against a dummy hash with the same
//! parameters, so that the time an answer takes does not tell an attacker
//! whether a client id exists.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use time::OffsetDateTime;

use super::client::{Client, ClientCredentials, PresentedSecret};
use super::error::OAuthError;
use super::secret_cache::SecretCache;
use crate::config::Config;

/// Hashes a secret the way `tollgate hash-secret` does: Argon2id with the
/// argon2 crate's defaults (m=19456 KiB, t=2, p=1, the OWASP baseline) and a
/// random salt.
pub fn hash_secret(secret: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(secret.as_bytes())?
        .to_string())
}

/// A hash of a random value with the default parameters, made once per
/// process: it stands in for the hash of a client that does not exist.
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 32];
        aws_lc_rs::rand::fill(&mut random).expect("system random source");
        Argon2::default()
            .hash_password(&random)
            .expect("hashing a random value with default parameters")
    })
}

fn verify(cache: &SecretCache, secret: &PresentedSecret, hash: &PasswordHash) -> bool {
    cache.count_argon2();
    Argon2::default()
        .verify_password(secret.expose().as_bytes(), hash)
        .is_ok()
}

/// The fast path: the client, if `cache` vouches for these credentials.
/// Costs one HMAC; never runs Argon2.
pub fn authenticate_cached(
    config: &Config,
    cache: &SecretCache,
    creds: &ClientCredentials,
    now: OffsetDateTime,
) -> Option<Arc<Client>> {
    let client = config.client(&creds.client_id)?;
    (client.enabled && cache.is_verified(client, &creds.secret, now)).then(|| client.clone())
}

/// Why a client authentication failed: for the operator (audit log,
/// metrics), never for the client, which gets the one `invalid_client`
/// whatever the reason ([`AuthFailure::to_error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    UnknownClient,
    WrongSecret,
    /// Every secret of the client has expired (or it has none).
    NoValidSecret,
    DisabledClient,
}

impl AuthFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownClient => "unknown_client",
            Self::WrongSecret => "wrong_secret",
            Self::NoValidSecret => "no_valid_secret",
            Self::DisabledClient => "disabled_client",
        }
    }

    /// The response: the same bytes for every reason.
    pub fn to_error(self, basic_challenge: bool) -> OAuthError {
        OAuthError::invalid_client(basic_challenge)
    }
}

/// Authenticates the client with Argon2, and on success remembers it in
/// `cache`. Costs at least one Argon2 verification whatever the outcome.
pub fn authenticate(
    config: &Config,
    cache: &SecretCache,
    creds: &ClientCredentials,
    now: OffsetDateTime,
) -> Result<Arc<Client>, AuthFailure> {
    let client = config.client(&creds.client_id);
    let mut candidates = client
        .into_iter()
        .flat_map(|c| c.secrets.iter())
        .filter(|s| s.is_valid_at(now))
        .peekable();
    let no_valid_secret = candidates.peek().is_none();
    let matched = if no_valid_secret {
        // Unknown client, or no secret still valid: do the same work anyway.
        let _ = verify(cache, &creds.secret, dummy_hash());
        None
    } else {
        candidates.find(|s| verify(cache, &creds.secret, s.hash.phc()))
    };
    match (client, matched) {
        (Some(c), Some(secret)) if c.enabled => {
            cache.remember(c, secret, &creds.secret, now);
            Ok(c.clone())
        }
        (None, _) => Err(AuthFailure::UnknownClient),
        (Some(_), _) if no_valid_secret => Err(AuthFailure::NoValidSecret),
        (Some(_), None) => Err(AuthFailure::WrongSecret),
        (Some(_), Some(_)) => Err(AuthFailure::DisabledClient),
    }
}

/// Warms the dummy hash so the first unknown-client request is not slower
/// than the rest (which would itself be a timing signal).
pub fn warm_up() {
    dummy_hash();
}
