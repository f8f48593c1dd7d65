//! Client ID Metadata Documents (MCP 2025-11-25, the IETF draft "OAuth
//! Client ID Metadata Document"): clients named by an https URL that
//! serves their metadata. The file's policy (which URLs, which scopes,
//! which settings), the rules a client id URL keeps, and what a fetched
//! document must say to become a [`Client`]. Fetching is the outside's.

pub(crate) mod admitted;
mod document;
mod pattern;

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use super::client::{ClientId, DEFAULT_REFRESH_TOKEN_LIFETIME, GrantType};
use super::scope::ScopeSet;

pub use super::client::DocumentFacts;
pub use admitted::ADMITTED_CAPACITY;
pub use document::redirect_uri_listed;
pub use pattern::UrlPattern;

/// The most of a document that is read: a longer one is refused.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch may take in all (resolution, connection, body).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A document is kept at least this long, whatever it says.
pub const MIN_CACHE_AGE: Duration = Duration::from_secs(60);
/// ... and at most this long.
pub const MAX_CACHE_AGE: Duration = Duration::from_secs(24 * 3600);

/// `[client_metadata_documents]`, validated: who may be a client by URL,
/// and the settings every such client gets (a document cannot choose
/// them).
#[derive(Debug, Clone)]
pub struct MetadataDocuments {
    pub allow: Vec<UrlPattern>,
    pub allowed_scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub require_dpop: bool,
}

impl Default for MetadataDocuments {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            allowed_scopes: ScopeSet::default(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            require_dpop: false,
        }
    }
}

/// A client id URL the policy allows, in the form it is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedUrl {
    pub id: ClientId,
    pub url: Url,
    /// The host's address when a pattern names it as an IP literal: only
    /// then may the document come from a loopback, private or link-local
    /// address (the pattern named that address; a DNS answer did not).
    pub literal_address: Option<IpAddr>,
}

/// Why a client id URL or its document is refused: a closed set (a
/// metric's label), and the detail for the audit log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    pub outcome: Outcome,
    pub detail: String,
}

/// What became of a client named by a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Fetched (or taken from the cache) and valid.
    Accepted,
    /// No pattern allows the URL, or it breaks the client id URL rules.
    NotAllowed,
    /// Its host resolves to an address documents may not come from.
    Address,
    /// Not fetched in time, or the connection failed.
    Unreachable,
    /// Answered with a redirect (never followed) or another non-200.
    Status,
    /// Longer than [`MAX_DOCUMENT_BYTES`].
    TooLarge,
    /// Not a JSON object, or a member of the wrong type.
    Malformed,
    /// Its `client_id` is not its URL.
    ClientIdMismatch,
    /// `redirect_uris` missing, or one not acceptable.
    RedirectUris,
    /// Neither `none` nor `private_key_jwt`, a secret, or bad keys.
    Authentication,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Self::Accepted,
        Self::NotAllowed,
        Self::Address,
        Self::Unreachable,
        Self::Status,
        Self::TooLarge,
        Self::Malformed,
        Self::ClientIdMismatch,
        Self::RedirectUris,
        Self::Authentication,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::NotAllowed => "not_allowed",
            Self::Address => "address",
            Self::Unreachable => "unreachable",
            Self::Status => "status",
            Self::TooLarge => "too_large",
            Self::Malformed => "malformed",
            Self::ClientIdMismatch => "client_id_mismatch",
            Self::RedirectUris => "redirect_uris",
            Self::Authentication => "authentication",
        }
    }
}

impl DocumentError {
    pub fn new(outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            outcome,
            detail: detail.into(),
        }
    }
}

/// Whether `client_id` is meant as a URL (and so never a client of the
/// file: the file's ids are looked up first, a URL id goes here).
pub fn is_url_client_id(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

impl MetadataDocuments {
    /// Whether any URL may name a client (discovery says so).
    pub fn enabled(&self) -> bool {
        !self.allow.is_empty()
    }

    /// `client_id` as a URL to fetch, if it keeps the draft's rules (https,
    /// a path, no dot segments, fragment, user or password; here also no
    /// query, and in normal form, so that one client has one id) and a
    /// pattern allows it.
    pub fn allowed(&self, client_id: &str) -> Result<AllowedUrl, DocumentError> {
        let refuse = |why: &str| DocumentError::new(Outcome::NotAllowed, why);
        let id: ClientId = client_id.parse().map_err(refuse)?;
        let url = Url::parse(client_id).map_err(|_| refuse("not a URL"))?;
        if url.as_str() != client_id {
            // Dot segments, an upper-case host, a default port, an
            // unencoded character: the URL a fetch would use is another.
            return Err(refuse("not a URL in normal form"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("a user or password in the URL"));
        }
        if url.fragment().is_some() || url.query().is_some() {
            return Err(refuse("a query or fragment in the URL"));
        }
        if url.path() == "/" {
            return Err(refuse("no path in the URL"));
        }
        let Some(pattern) = self.allow.iter().find(|p| p.matches(&url)) else {
            return Err(refuse("no allow pattern matches"));
        };
        // A pattern's host is literal: a URL it matches has the same host,
        // so an IP-literal host is the pattern's own.
        let literal_address = pattern.literal_address();
        debug_assert!(
            literal_address.is_none() || !matches!(url.host(), Some(Host::Domain(_))),
            "an IP-literal pattern matched a domain"
        );
        Ok(AllowedUrl {
            id,
            url,
            literal_address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> MetadataDocuments {
        MetadataDocuments {
            allow: allow.iter().map(|p| p.parse().unwrap()).collect(),
            ..MetadataDocuments::default()
        }
    }

    #[test]
    fn a_client_id_url_must_be_in_normal_form_and_allowed() {
        let p = policy(&["https://app.example.com/*"]);
        let ok = p.allowed("https://app.example.com/client.json").unwrap();
        assert_eq!(ok.literal_address, None);
        for (bad, why) in [
            ("https://app.example.com/x/../client.json", "normal form"),
            ("https://APP.example.com/client.json", "normal form"),
            ("https://app.example.com:443/client.json", "normal form"),
            ("https://u:p@app.example.com/client.json", "user"),
            ("https://app.example.com/client.json#f", "fragment"),
            ("https://app.example.com/client.json?a=b", "query"),
            ("https://other.example.com/client.json", "no allow pattern"),
            ("https://app.example.com/a/client.json", "no allow pattern"),
        ] {
            let e = p.allowed(bad).unwrap_err();
            assert_eq!(e.outcome, Outcome::NotAllowed, "{bad}");
            assert!(e.detail.contains(why), "{bad}: {}", e.detail);
        }
        assert!(
            p.allowed(&format!("https://app.example.com/{}", "a".repeat(300)))
                .is_err()
        );
        assert!(
            policy(&[])
                .allowed("https://app.example.com/client.json")
                .is_err()
        );
    }

    #[test]
    fn only_a_pattern_with_an_ip_literal_names_an_address() {
        let p = policy(&["http://127.0.0.1:9000/*", "http://localhost:9000/*"]);
        assert_eq!(
            p.allowed("http://127.0.0.1:9000/c")
                .unwrap()
                .literal_address,
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            p.allowed("http://localhost:9000/c")
                .unwrap()
                .literal_address,
            None
        );
    }

    #[test]
    fn urls_are_told_from_the_files_ids_by_their_scheme() {
        assert!(is_url_client_id("https://app.example.com/c"));
        assert!(!is_url_client_id("web"));
        assert!(!is_url_client_id("urn:example:client"));
    }
}
