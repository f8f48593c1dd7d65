//! Registered clients and the secrets they hold.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use time::OffsetDateTime;

use super::federation::{FederatedRule, KeySource};
use super::rules::{CertificateRule, ExchangeRule};
use super::scope::ScopeSet;

/// The longest client id tollgate accepts, in the file and on the wire. A
/// longer one cannot be registered, so a request naming one is refused
/// before anything about it is remembered.
pub(crate) const MAX_CLIENT_ID_LEN: usize = 255;

/// A client identifier (RFC 6749 Appendix A.1: `*VSCHAR`, here non-empty
/// and at most [`MAX_CLIENT_ID_LEN`] bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
        } else if s.len() > MAX_CLIENT_ID_LEN {
            Err("client_id may be at most 255 bytes long")
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
    /// RFC 8693: a token for a subject, exchanged by this client.
    TokenExchange,
    /// RFC 6749 §4.1 with PKCE (OAuth 2.1): a person signs in.
    AuthorizationCode,
    /// RFC 6749 §6: a new access token from a refresh token, rotated.
    RefreshToken,
}

/// RFC 7523 §2.1: a platform's token presented as the grant. Not a grant
/// type of its own in the file: it is `client_credentials` with the
/// credential in another place, so a client needs nothing more for it.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::ClientCredentials,
        GrantType::TokenExchange,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
        }
    }
}

impl FromStr for GrantType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_credentials" => Ok(Self::ClientCredentials),
            "urn:ietf:params:oauth:grant-type:token-exchange" => Ok(Self::TokenExchange),
            "authorization_code" => Ok(Self::AuthorizationCode),
            "refresh_token" => Ok(Self::RefreshToken),
            _ => Err(()),
        }
    }
}

/// Argon2 work of a hash made with the default parameters (m=19456 KiB,
/// t=2): the unit in which [`SecretHash::work`] is counted.
const DEFAULT_WORK: u64 = 19_456 * 2;

/// A stored Argon2id hash of a secret, checked at load time. Kept as its
/// PHC string (parsed again, in a microsecond, only when Argon2 is about to
/// run): the parsed form takes ~300 bytes, which for 100,000 clients is
/// 30 MB held for nothing.
#[derive(Clone)]
pub struct SecretHash {
    phc: Box<str>,
    cost: Argon2Cost,
}

/// The Argon2 parameters of a stored hash: what verifying against it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Argon2Cost {
    /// Memory, KiB.
    pub m: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Argon2Cost {
    pub fn params(self) -> argon2::Params {
        argon2::Params::new(self.m, self.t, self.p, None).unwrap_or_default()
    }

    /// In verifications with the default parameters (memory × passes; the
    /// argon2 crate runs lanes one after the other, so parallelism does not
    /// make it cheaper).
    pub fn work(self) -> f64 {
        (u64::from(self.m) * u64::from(self.t)) as f64 / DEFAULT_WORK as f64
    }
}

impl SecretHash {
    /// The parsed PHC string, to verify against.
    pub(crate) fn phc(&self) -> PasswordHash {
        PasswordHash::new(&self.phc).expect("checked when it was loaded")
    }

    /// Its Argon2 parameters.
    pub fn cost(&self) -> Argon2Cost {
        self.cost
    }

    /// What verifying against this hash costs (see [`Argon2Cost::work`]).
    pub fn work(&self) -> f64 {
        self.cost.work()
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
        let params =
            argon2::Params::try_from(&hash).map_err(|e| format!("bad Argon2 parameters ({e})"))?;
        Ok(Self {
            phc: s.into(),
            cost: Argon2Cost {
                m: params.m_cost(),
                t: params.t_cost(),
                p: params.p_cost(),
            },
        })
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but there is no reason to spread it around.
        f.write_str("SecretHash(argon2id)")
    }
}

/// One stored secret.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub hash: SecretHash,
    pub expires: Option<OffsetDateTime>,
}

impl ClientSecret {
    pub(crate) fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.expires.is_none_or(|e| now < e)
    }
}

/// The secrets of a client (or of an API resource, for introspection).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub list: Vec<ClientSecret>,
    /// SHA-256 over the configured secrets (hashes and expiries): changes
    /// exactly when a reload changes them, which invalidates cached
    /// verifications.
    pub fingerprint: [u8; 32],
}

impl Secrets {
    /// The secrets that authenticate at `now`.
    pub fn valid_at(&self, now: OffsetDateTime) -> impl Iterator<Item = &ClientSecret> {
        self.list.iter().filter(move |s| s.is_valid_at(now))
    }

    /// What a failed verification against all of them costs (see
    /// [`SecretHash::work`]).
    pub fn work(&self) -> f64 {
        self.list.iter().map(|s| s.hash.work()).sum()
    }
}

/// A registered client, validated.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub id: ClientId,
    pub grant_types: Vec<GrantType>,
    pub allowed_scopes: ScopeSet,
    pub access_token_lifetime: Duration,
    pub enabled: bool,
    /// Extra claims, already checked not to shadow registered ones.
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub secrets: Secrets,
    /// Its public keys, for `private_key_jwt`.
    pub keys: KeySource,
    /// The platform tokens that are this client (workload identity).
    pub federated: Vec<FederatedRule>,
    /// Tokens only with a DPoP proof (RFC 9449).
    pub require_dpop: bool,
    /// `tls_client_auth` (RFC 8705 §2.1): what its certificate must say.
    pub certificate: Option<CertificateRule>,
    /// `self_signed_tls_client_auth` (RFC 8705 §2.2): a certificate whose
    /// key is one of [`Client::keys`].
    pub self_signed_certificate: bool,
    /// Tokens issued before this instant are not active (introspection):
    /// one edit revokes every earlier token.
    pub tokens_valid_after: Option<OffsetDateTime>,
    /// `[[clients.token_exchange]]`: the tokens this client may exchange,
    /// and for which APIs (RFC 8693).
    pub token_exchange: Vec<ExchangeRule>,
    /// For people: the name the consent page shows (else the id).
    pub display_name: Option<String>,
    /// A public client (RFC 6749 §2.1): no credential; it sends only its
    /// `client_id`, and PKCE is what binds its code.
    pub public: bool,
    /// Where codes may be sent (exact, except loopback on any port).
    pub redirect_uris: Vec<String>,
    /// Where RP-Initiated Logout may send the browser back.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where a logout token is POSTed when a person who signed in to this
    /// client signs out (OpenID Connect Back-Channel Logout 1.0): https,
    /// or http to a loopback host.
    pub backchannel_logout_uri: Option<url::Url>,
    /// The person is asked before a code is issued.
    pub require_consent: bool,
    /// Refresh tokens stop working this long after the sign-in they came
    /// from (absolute, not sliding).
    pub refresh_token_lifetime: Duration,
    /// Only people of one of these groups may sign in to this client
    /// (empty: everyone).
    pub allowed_groups: Vec<String>,
    /// `login_providers`: the upstream providers people may sign in to
    /// this client through (`None`: every one).
    pub login_providers: Option<Vec<crate::upstream::ProviderName>>,
    /// A client named by a URL: what its metadata document says of it
    /// (`None` for the file's clients).
    pub document: Option<std::sync::Arc<DocumentFacts>>,
}

/// What the consent page shows of a client named by a URL: the host first
/// (a look-alike host is the phishing risk the draft warns of), then what
/// the document says of itself, as secondary text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFacts {
    /// The client id URL's host (with its port, if not the default).
    pub host: String,
    /// `logo_uri`, if the document has an https one.
    pub logo_uri: Option<String>,
    /// `client_uri`, if the document has an https one.
    pub client_uri: Option<String>,
}

/// The default `refresh_token_lifetime`: 30 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

impl Client {
    /// What the consent page calls it.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(self.id.as_str())
    }
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

/// Whether `sent` is the registered URI `registered`: equal, or both the
/// same `http` loopback URI but for the port (RFC 8252 §7.3).
pub(crate) fn redirect_uri_matches(registered: &str, sent: &str) -> bool {
    if registered == sent {
        return true;
    }
    let (Ok(r), Ok(s)) = (url::Url::parse(registered), url::Url::parse(sent)) else {
        return false;
    };
    let loopback = |u: &url::Url| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
            && u.username().is_empty()
            && u.password().is_none()
    };
    loopback(&r)
        && loopback(&s)
        && r.host_str() == s.host_str()
        && r.path() == s.path()
        && r.query() == s.query()
        && s.fragment().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_secrets_never_show_in_debug_output() {
        let secret = PresentedSecret::new("hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
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

    #[test]
    fn client_ids_have_a_maximum_length() {
        assert!("a".repeat(255).parse::<ClientId>().is_ok());
        assert!("a".repeat(256).parse::<ClientId>().is_err());
    }

    #[test]
    fn the_work_of_a_hash_is_counted_in_default_verifications() {
        let default = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$8k8T9Vn6RlUOyyEbYOWMmg";
        let heavy = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$8k8T9Vn6RlUOyyEbYOWMmg";
        assert_eq!(default.parse::<SecretHash>().unwrap().work(), 1.0);
        let w = heavy.parse::<SecretHash>().unwrap().work();
        assert!((w - 5.05).abs() < 0.01, "{w}");
    }

    #[test]
    fn loopback_redirect_uris_match_on_any_port_and_nothing_else_does() {
        let r = "http://127.0.0.1/callback";
        assert!(redirect_uri_matches(r, "http://127.0.0.1:51234/callback"));
        assert!(redirect_uri_matches(
            "http://[::1]:1/cb",
            "http://[::1]:2/cb"
        ));
        assert!(redirect_uri_matches(
            "http://localhost/cb",
            "http://localhost:9/cb"
        ));
        assert!(!redirect_uri_matches(r, "http://127.0.0.1:1/other"));
        assert!(!redirect_uri_matches(r, "https://127.0.0.1:1/callback"));
        assert!(!redirect_uri_matches(r, "http://127.0.0.2:1/callback"));
        assert!(!redirect_uri_matches(
            "https://app.example/cb",
            "https://app.example:444/cb"
        ));
        assert!(!redirect_uri_matches(r, "http://u@127.0.0.1:1/callback"));
    }
}
