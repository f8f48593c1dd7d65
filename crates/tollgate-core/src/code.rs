//! An authorization code as tollgate hands it out: everything the token
//! endpoint needs to redeem it, sealed (`sealed::Purpose::Code`), so no
//! replica keeps it. It lives at most [`CODE_LIFETIME`] seconds and is
//! used once: its `id` goes to the replay store when it is redeemed, and
//! is the family of the refresh tokens issued from it, so a replayed code
//! can revoke them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How long a code lives, in seconds (the contract's 60 s).
pub const CODE_LIFETIME: i64 = 60;

/// What a sealed authorization code carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeGrant {
    /// 128 random bits, base64url: the code's single-use key, and the
    /// family of the refresh tokens issued from it.
    pub id: String,
    pub client_id: String,
    /// As the authorization request sent it (RFC 6749 §4.1.3: the token
    /// request must send the same).
    pub redirect_uri: String,
    /// RFC 7636 S256 challenge.
    pub code_challenge: String,
    /// The person: a username of the file, or `<provider>|<sub>`.
    pub sub: String,
    /// When she signed in (Unix seconds): `auth_time`.
    pub auth_time: i64,
    /// The granted scopes, space separated (identity and API scopes).
    pub scope: String,
    /// RFC 8707 `resource`s of the authorization request.
    pub resources: Vec<String>,
    /// OpenID Connect `nonce`, copied into the id token.
    pub nonce: Option<String>,
    /// Unix seconds after which it is refused.
    pub exp: i64,
    /// A provider's person: her claims as copied at sign-in (there is no
    /// database to look her up in later). `None` for users of the file.
    pub claims: Option<Map<String, Value>>,
    /// The browser session the code was issued in: the `sid` of the id
    /// tokens of this sign-in. Absent from codes sealed before it was
    /// carried.
    #[serde(default)]
    pub sid: Option<String>,
}
