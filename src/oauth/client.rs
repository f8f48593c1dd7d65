//! Registered clients and the credentials a request presents.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use time::OffsetDateTime;

use super::scope::ScopeSet;

/// A client identifier (RFC 6749 Appendix A.1: `*VSCHAR`, here non-empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClientId {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            Err("client_id may not be empty")
        } else if !s.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            Err("client_id may hold only printable ASCII (RFC 6749 Appendix A.1)")
        } else {
            Ok(Self(s.to_owned()))
        }
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Grant types tollgate knows. Anything else in a request is
/// `unsupported_grant_type`; in the config file it is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 1] = [GrantType::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
        }
    }
}

impl FromStr for GrantType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_credentials" => Ok(Self::ClientCredentials),
            _ => Err(()),
        }
    }
}

/// A stored Argon2id hash of a client secret, parsed once at load time.
#[derive(Clone)]
pub struct SecretHash(PasswordHash);

impl SecretHash {
    pub fn phc(&self) -> &PasswordHash {
        &self.0
    }
}

impl FromStr for SecretHash {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hash = PasswordHash::new(s).map_err(|e| format!("not a PHC string ({e})"))?;
        if hash.algorithm.as_str() != "argon2id" {
            return Err(format!(
                "the hash uses {}, but only argon2id is accepted",
                hash.algorithm.as_str()
            ));
        }
        if hash.hash.is_none() || hash.salt.is_none() {
            return Err("the PHC string has no salt or no hash".into());
        }
        // Parameters are checked by building them: a hash with parameters
        // argon2 refuses would fail every verification later.
        argon2::Params::try_from(&hash).map_err(|e| format!("bad Argon2 parameters ({e})"))?;
        Ok(Self(hash))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but there is no reason to spread it around.
        f.write_str("SecretHash(argon2id)")
    }
}

/// One of a client's secrets.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub hash: SecretHash,
    pub expires: Option<OffsetDateTime>,
}

impl ClientSecret {
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.expires.is_none_or(|e| now < e)
    }
}

/// A registered client, validated.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub grant_types: Vec<GrantType>,
    pub allowed_scopes: ScopeSet,
    pub access_token_lifetime: Duration,
    pub enabled: bool,
    /// Extra claims, already checked not to shadow registered ones.
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub secrets: Vec<ClientSecret>,
    /// SHA-256 over the configured secrets (hashes and expiries): changes
    /// exactly when a reload changes them, which invalidates cached
    /// verifications.
    pub secrets_fingerprint: [u8; 32],
}

/// A secret as the client sent it. Its `Debug` never shows the value, so a
/// stray `{:?}` cannot put it in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedSecret(String);

impl PresentedSecret {
    pub fn new(s: String) -> Self {
        Self(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PresentedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresentedSecret([redacted])")
    }
}

/// How the client authenticated (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    pub fn is_basic(self) -> bool {
        self == Self::ClientSecretBasic
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// Credentials extracted from a token request.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: PresentedSecret,
    pub method: AuthMethod,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_secrets_never_show_in_debug_output() {
        let creds = ClientCredentials {
            client_id: "c".into(),
            secret: PresentedSecret::new("hunter2".into()),
            method: AuthMethod::ClientSecretPost,
        };
        assert!(!format!("{creds:?}").contains("hunter2"));
    }

    #[test]
    fn only_argon2id_phc_strings_are_secret_hashes() {
        assert!("secret".parse::<SecretHash>().is_err());
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$8k8T9Vn6RlUOyyEbYOWMmg";
        assert!(
            argon2i
                .parse::<SecretHash>()
                .unwrap_err()
                .contains("argon2i")
        );
    }
}
