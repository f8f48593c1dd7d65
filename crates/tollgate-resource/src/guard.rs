//! What both adapters decide, framework-neutral: a request to the RFC
//! 9728 metadata path gets the document; any other passes with its claims
//! or gets the refusal (status, headers, RFC 6750 body), its challenge
//! naming the metadata and, for a missing scope, every scope the request
//! needs: the validator's and the request's own ([`RequiredScopes`]). The
//! poem middleware and the tower layer only translate requests in and
//! replies out.

use std::sync::Arc;

use crate::{Claims, ClientCertificate, Rejection, ResourceMetadata, TokenValidator};

/// Scopes one request needs beyond the validator's own, put in the
/// request's extensions by whatever knows what the request does (a
/// middleware before the adapter that reads an operation's name, say).
/// The adapter then admits the request only with a token that carries
/// them too, and a refusal's challenge lists them all (step-up: the
/// client asks for exactly those).
///
/// ```
/// use tollgate_resource::RequiredScopes;
///
/// let admin = RequiredScopes::new(["mcp:admin"]);
/// assert!(admin.contains("mcp:admin"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequiredScopes(Vec<String>);

impl RequiredScopes {
    /// A request that needs each of `scopes`.
    pub fn new<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self(scopes.into_iter().map(Into::into).collect())
    }

    /// Whether the request needs `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    fn as_strs(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

/// The decision's configuration: one per middleware or layer, shared by
/// the services it wraps.
#[derive(Clone)]
pub(crate) struct Guard {
    validator: Arc<TokenValidator>,
    /// The API's own address (scheme, host, port), without a trailing `/`.
    public_url: Arc<str>,
    metadata: Option<Arc<ResourceMetadata>>,
}

/// The parts of a request the decision reads.
pub(crate) struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authorization: Option<&'a str>,
    pub dpop: Option<&'a str>,
    pub certificate: Option<&'a ClientCertificate>,
    /// What the request needs beyond the validator's scope.
    pub scopes: Option<&'a RequiredScopes>,
}

/// A response the guard makes itself.
pub(crate) struct Reply {
    pub status: u16,
    /// Header names in lowercase, values visible ASCII.
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Guard {
    pub(crate) fn new(validator: Arc<TokenValidator>, public_url: &str) -> Self {
        Self {
            validator,
            public_url: public_url.trim_end_matches('/').into(),
            metadata: None,
        }
    }

    pub(crate) fn with_metadata(mut self, metadata: ResourceMetadata) -> Self {
        self.metadata = Some(Arc::new(metadata));
        self
    }

    /// The metadata document, if this request asks for it (GET or HEAD of
    /// its path): public, readable from any origin (browser-based MCP
    /// clients fetch it), cacheable for a while.
    pub(crate) fn metadata_reply(&self, method: &str, path: &str) -> Option<Reply> {
        let metadata = self.metadata.as_ref()?;
        (path == metadata.path() && (method == "GET" || method == "HEAD"))
            .then(|| metadata_reply(metadata))
    }

    /// The request's claims, or the reply that refuses it.
    pub(crate) async fn judge(&self, request: Incoming<'_>) -> Result<Claims, Reply> {
        let url = format!("{}{}", self.public_url, request.path);
        self.validator
            .validate_request_with_scopes(
                request.authorization,
                request.dpop,
                request.method,
                &url,
                request.certificate,
                &request
                    .scopes
                    .map(RequiredScopes::as_strs)
                    .unwrap_or_default(),
            )
            .await
            .map_err(|rejection| {
                let challenge = match &self.metadata {
                    Some(metadata) => metadata.challenge(&rejection),
                    None => rejection.www_authenticate(),
                };
                refusal(&rejection, challenge)
            })
    }
}

/// The reply that refuses a request: status, `WWW-Authenticate` when
/// there is a challenge, the error as JSON.
pub(crate) fn refusal(rejection: &Rejection, challenge: Option<String>) -> Reply {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(challenge) = challenge {
        headers.push(("www-authenticate", challenge));
    }
    Reply {
        status: rejection.status(),
        headers,
        body: rejection.body(),
    }
}

/// The metadata document as a reply.
pub(crate) fn metadata_reply(metadata: &ResourceMetadata) -> Reply {
    Reply {
        status: 200,
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("access-control-allow-origin", "*".to_owned()),
            ("cache-control", "public, max-age=3600".to_owned()),
        ],
        body: metadata.document(),
    }
}
