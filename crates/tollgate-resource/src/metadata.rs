//! RFC 9728 protected resource metadata: the document that tells a client
//! which authorization server guards this resource (an MCP server's first
//! answer), where it is served, and the `resource_metadata` parameter of
//! the resource's 401 challenges (§5.1).

use serde::Serialize;
use url::Url;

use crate::Rejection;

/// The well-known name of the metadata document (RFC 9728 §3).
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The protected resource metadata of one resource (RFC 9728 §2).
///
/// ```
/// use tollgate_resource::ResourceMetadata;
///
/// let metadata = ResourceMetadata::new("http://127.0.0.1:7001/mcp", "http://localhost:5001")
///     .unwrap()
///     .with_scopes(["mcp:tools"]);
/// assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
/// assert_eq!(
///     metadata.url(),
///     "http://127.0.0.1:7001/.well-known/oauth-protected-resource/mcp"
/// );
/// let document: serde_json::Value = serde_json::from_str(&metadata.document()).unwrap();
/// assert_eq!(document["authorization_servers"][0], "http://localhost:5001");
/// ```
#[derive(Debug, Clone)]
pub struct ResourceMetadata {
    document: Document,
    path: String,
    url: String,
}

/// The document's members (RFC 9728 §2), in its JSON names.
#[derive(Debug, Clone, Serialize)]
struct Document {
    resource: String,
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
}

/// Why a resource identifier or authorization server cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidResource(String);

impl ResourceMetadata {
    /// The metadata of `resource` (the URL clients call, which tokens
    /// must carry in `aud`), guarded by the authorization server whose
    /// issuer is `authorization_server`.
    ///
    /// Both must be absolute `http(s)` URLs; the resource may have no
    /// query or fragment (RFC 9728 §1.2), since its metadata's address
    /// is derived from its path.
    pub fn new(resource: &str, authorization_server: &str) -> Result<Self, InvalidResource> {
        let parsed = http_url("resource", resource)?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(InvalidResource(format!(
                "the resource {resource:?} must not have a query or a fragment"
            )));
        }
        http_url("authorization server", authorization_server)?;
        // §3.1: the well-known name goes between the host and the path; a
        // resource at the root has no path to append. Only the slash right
        // after the host goes: `/mcp/` keeps its own trailing slash.
        let path = match parsed.path() {
            "" | "/" => WELL_KNOWN.to_owned(),
            rest => format!("{WELL_KNOWN}{rest}"),
        };
        let origin = parsed.origin().ascii_serialization();
        Ok(Self {
            url: format!("{origin}{path}"),
            path,
            document: Document {
                resource: resource.to_owned(),
                authorization_servers: vec![authorization_server.trim_end_matches('/').to_owned()],
                scopes_supported: Vec::new(),
                // Tokens are taken from the Authorization header only.
                bearer_methods_supported: vec!["header"],
                resource_name: None,
            },
        })
    }

    /// The scopes a client may ask for to call this resource.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.document.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name for people (`resource_name`).
    pub fn with_name(mut self, name: &str) -> Self {
        self.document.resource_name = Some(name.to_owned());
        self
    }

    /// The resource identifier.
    pub fn resource(&self) -> &str {
        &self.document.resource
    }

    /// The path the document is served at on the resource's host:
    /// `/.well-known/oauth-protected-resource` followed by the resource's
    /// path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document's full URL, which challenges name.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The document, as JSON.
    pub fn document(&self) -> String {
        serde_json::to_string(&self.document).unwrap_or_default()
    }

    /// The `WWW-Authenticate` value for `rejection`: its RFC 6750 / RFC
    /// 9449 challenge with `resource_metadata` added (RFC 9728 §5.1), so a
    /// client refused here learns where to get a token.
    pub fn challenge(&self, rejection: &Rejection) -> Option<String> {
        rejection
            .www_authenticate()
            .map(|challenge| format!(r#"{challenge}, resource_metadata="{}""#, self.url))
    }
}

/// `value` parsed as an absolute http(s) URL.
fn http_url(what: &str, value: &str) -> Result<Url, InvalidResource> {
    let url = Url::parse(value)
        .map_err(|e| InvalidResource(format!("the {what} {value:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(InvalidResource(format!(
            "the {what} {value:?} is not an http(s) URL"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_sits_between_host_and_path() {
        let m =
            ResourceMetadata::new("https://api.example.com/", "https://as.example.com/").unwrap();
        assert_eq!(
            m.url(),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        let m = ResourceMetadata::new("https://api.example.com:8443/v1/mcp", "https://as")
            .unwrap()
            .with_name("Tools");
        assert_eq!(
            m.url(),
            "https://api.example.com:8443/.well-known/oauth-protected-resource/v1/mcp"
        );
        // Only the slash after the host is dropped, never the path's own.
        let trailing = ResourceMetadata::new("https://h.example/mcp/", "https://as").unwrap();
        assert_eq!(
            trailing.url(),
            "https://h.example/.well-known/oauth-protected-resource/mcp/"
        );
        let doc: serde_json::Value = serde_json::from_str(&m.document()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "resource": "https://api.example.com:8443/v1/mcp",
                "authorization_servers": ["https://as"],
                "bearer_methods_supported": ["header"],
                "resource_name": "Tools",
            })
        );
    }

    #[test]
    fn resources_that_cannot_name_their_metadata_are_refused() {
        for bad in [
            "api",
            "urn:orders",
            "https://api.example.com/mcp?x=1",
            "https://api.example.com/mcp#top",
        ] {
            assert!(ResourceMetadata::new(bad, "https://as").is_err(), "{bad}");
        }
        assert!(ResourceMetadata::new("https://api", "as").is_err());
    }

    #[test]
    fn challenges_name_the_document() {
        let m = ResourceMetadata::new("http://127.0.0.1:7001/mcp", "http://as").unwrap();
        assert_eq!(
            m.challenge(&Rejection::MissingToken).unwrap(),
            r#"Bearer realm="api", resource_metadata="http://127.0.0.1:7001/.well-known/oauth-protected-resource/mcp""#
        );
        let refused = Rejection::InvalidToken("expired".into());
        assert!(
            m.challenge(&refused)
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
        assert_eq!(
            m.challenge(&Rejection::AuthorityUnavailable("down".into())),
            None
        );
    }
}
