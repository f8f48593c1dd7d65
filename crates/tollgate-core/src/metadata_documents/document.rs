//! A fetched metadata document → a [`Client`]: what the document must say
//! (its own URL as `client_id`, its redirect URIs, `none` or
//! `private_key_jwt` with keys), and what it may not choose (scopes,
//! lifetimes, consent: the file's policy decides those).

use std::sync::Arc;

use serde_json::{Map, Value};
use url::Url;

use super::super::client::{Client, DocumentFacts, redirect_uri_matches};
use super::super::federation::KeySource;
use super::{AllowedUrl, DocumentError, MetadataDocuments, Outcome};
use tollgate_jose::jose::{self, JwksLocation};

/// Members a document may not carry: a document is public, so a secret in
/// it is no secret (the draft: MUST NOT).
const FORBIDDEN: [&str; 2] = ["client_secret", "client_secret_expires_at"];

impl MetadataDocuments {
    /// The client `body` (the document fetched from `allowed.url`)
    /// describes, under this policy.
    pub fn client(&self, allowed: &AllowedUrl, body: &[u8]) -> Result<Client, DocumentError> {
        let malformed = |why: String| DocumentError::new(Outcome::Malformed, why);
        let value: Value =
            serde_json::from_slice(body).map_err(|e| malformed(format!("not JSON ({e})")))?;
        let Value::Object(doc) = value else {
            return Err(malformed("not a JSON object".into()));
        };
        match doc.get("client_id") {
            Some(Value::String(id)) if id == allowed.id.as_str() => {}
            Some(Value::String(_)) => {
                return Err(DocumentError::new(
                    Outcome::ClientIdMismatch,
                    "its client_id is not the URL it was fetched from",
                ));
            }
            _ => {
                return Err(DocumentError::new(
                    Outcome::ClientIdMismatch,
                    "no client_id string",
                ));
            }
        }
        let redirect_uris = redirect_uris(&doc)?;
        let (public, keys) = authentication(&doc, &allowed.url)?;
        let client_name = optional_string(&doc, "client_name")?;
        let logo_uri = optional_https(&doc, "logo_uri")?;
        let client_uri = optional_https(&doc, "client_uri")?;
        let host = match allowed.url.port() {
            Some(port) => format!("{}:{port}", allowed.url.host_str().unwrap_or_default()),
            None => allowed.url.host_str().unwrap_or_default().to_owned(),
        };
        Ok(Client {
            id: allowed.id.clone(),
            grant_types: self.grant_types.clone(),
            allowed_scopes: self.allowed_scopes.clone(),
            access_token_lifetime: self.access_token_lifetime,
            enabled: true,
            keys,
            require_dpop: self.require_dpop,
            display_name: client_name,
            public,
            redirect_uris,
            // Always: the person is the only one who vouches for a client
            // nobody declared.
            require_consent: true,
            refresh_token_lifetime: self.refresh_token_lifetime,
            document: Some(Arc::new(DocumentFacts {
                host,
                logo_uri,
                client_uri,
            })),
            ..Client::default()
        })
    }
}

/// `redirect_uris`: a non-empty list of absolute URLs without a fragment;
/// https, http only to a loopback host (RFC 8252 §7.3), or a private-use
/// scheme with a dot (RFC 8252 §7.1: reverse domain names).
fn redirect_uris(doc: &Map<String, Value>) -> Result<Vec<String>, DocumentError> {
    let bad = |why: String| DocumentError::new(Outcome::RedirectUris, why);
    let Some(Value::Array(list)) = doc.get("redirect_uris") else {
        return Err(bad("no redirect_uris list".into()));
    };
    if list.is_empty() {
        return Err(bad("redirect_uris is empty".into()));
    }
    list.iter()
        .map(|v| {
            let Value::String(uri) = v else {
                return Err(bad("a redirect URI that is not a string".into()));
            };
            let url = Url::parse(uri).map_err(|_| bad("a redirect URI that is not a URL".into()))?;
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
            let acceptable = match url.scheme() {
                "https" => true,
                "http" => loopback,
                "javascript" | "data" | "file" | "blob" | "about" => false,
                scheme => scheme.contains('.'),
            };
            if !acceptable || url.fragment().is_some() {
                return Err(bad(format!(
                    "redirect URI with the scheme {} is not https, loopback http or a private-use scheme, or has a fragment",
                    url.scheme()
                )));
            }
            Ok(uri.clone())
        })
        .collect()
}

/// `token_endpoint_auth_method`: `none` (a public client) or
/// `private_key_jwt` with `jwks` or `jwks_uri`. RFC 7591's default,
/// `client_secret_basic`, has no secret here, so the member is required.
///
/// A `jwks_uri` is on the client id URL's own origin: the pattern vetted
/// that host, and keys fetched from anywhere else would let a document
/// send the server to an address no pattern names.
fn authentication(doc: &Map<String, Value>, own: &Url) -> Result<(bool, KeySource), DocumentError> {
    let bad = |why: String| DocumentError::new(Outcome::Authentication, why);
    if let Some(name) = FORBIDDEN.iter().find(|m| doc.contains_key(**m)) {
        return Err(bad(format!("the document carries {name}")));
    }
    match doc
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        Some("none") => Ok((true, KeySource::None)),
        Some("private_key_jwt") => match (doc.get("jwks"), doc.get("jwks_uri")) {
            (Some(jwks), None) => jose::parse_jwk_set(jwks)
                .map(|keys| (false, KeySource::Static(Arc::new(keys))))
                .map_err(|_| bad("jwks is not a JWK Set of acceptable public keys".into())),
            (None, Some(Value::String(uri))) => match Url::parse(uri) {
                Ok(url) if url.origin() == own.origin() => Ok((
                    false,
                    KeySource::Remote(JwksLocation {
                        url,
                        discovery: false,
                    }),
                )),
                _ => Err(bad(
                    "jwks_uri is not on the origin of the client id URL".into()
                )),
            },
            _ => Err(bad(
                "private_key_jwt needs exactly one of jwks and jwks_uri".into(),
            )),
        },
        Some(other) => Err(bad(format!(
            "token_endpoint_auth_method {:?} is neither none nor private_key_jwt",
            other.chars().take(40).collect::<String>()
        ))),
        None => Err(bad(
            "no token_endpoint_auth_method (none or private_key_jwt)".into(),
        )),
    }
}

fn optional_string(doc: &Map<String, Value>, name: &str) -> Result<Option<String>, DocumentError> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(DocumentError::new(
            Outcome::Malformed,
            format!("{name} is not a string"),
        )),
    }
}

/// A URL the consent page may link to or show: https only (never a
/// `javascript:` link on our page).
fn optional_https(doc: &Map<String, Value>, name: &str) -> Result<Option<String>, DocumentError> {
    let Some(s) = optional_string(doc, name)? else {
        return Ok(None);
    };
    match Url::parse(&s) {
        Ok(url) if url.scheme() == "https" => Ok(Some(url.into())),
        _ => Err(DocumentError::new(
            Outcome::Malformed,
            format!("{name} is not an https URL"),
        )),
    }
}

/// Whether `sent` is one of the document's redirect URIs: equal, or the
/// same loopback `http` URI on another port (RFC 8252 §7.3), as for
/// clients of the file.
pub fn redirect_uri_listed(client: &Client, sent: &str) -> bool {
    client
        .redirect_uris
        .iter()
        .any(|registered| redirect_uri_matches(registered, sent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://app.example.com/client.json";

    fn policy() -> MetadataDocuments {
        MetadataDocuments {
            allow: vec!["https://app.example.com/*".parse().unwrap()],
            allowed_scopes: "mcp:tools openid".parse().unwrap(),
            ..MetadataDocuments::default()
        }
    }

    fn client(doc: Value) -> Result<Client, DocumentError> {
        let p = policy();
        let allowed = p.allowed(URL).unwrap();
        p.client(&allowed, doc.to_string().as_bytes())
    }

    fn good() -> Value {
        json!({
            "client_id": URL,
            "client_name": "Example IDE",
            "redirect_uris": ["http://127.0.0.1/callback", "https://app.example.com/cb"],
            "token_endpoint_auth_method": "none",
            "logo_uri": "https://app.example.com/logo.png",
            "scope": "everything admin",
        })
    }

    fn outcome(doc: Value) -> Outcome {
        client(doc).unwrap_err().outcome
    }

    #[test]
    fn a_good_document_is_a_public_client_with_the_policys_scopes_and_consent() {
        let c = client(good()).unwrap();
        assert_eq!(c.id.as_str(), URL);
        assert!(c.public && c.require_consent && c.enabled);
        // The document's own `scope` is not the policy's.
        assert_eq!(c.allowed_scopes.to_string(), "mcp:tools openid");
        assert_eq!(c.display_name.as_deref(), Some("Example IDE"));
        let facts = c.document.as_deref().unwrap();
        assert_eq!(facts.host, "app.example.com");
        assert_eq!(
            facts.logo_uri.as_deref(),
            Some("https://app.example.com/logo.png")
        );
        assert!(redirect_uri_listed(&c, "http://127.0.0.1:53122/callback"));
        assert!(redirect_uri_listed(&c, "https://app.example.com/cb"));
        assert!(!redirect_uri_listed(&c, "https://app.example.com/cb2"));
        assert!(!redirect_uri_listed(&c, "https://evil.example/cb"));
    }

    #[test]
    fn a_document_that_breaks_a_rule_is_refused_with_its_outcome() {
        let with = |k: &str, v: Value| {
            let mut d = good();
            d[k] = v;
            d
        };
        let without = |k: &str| {
            let mut d = good();
            d.as_object_mut().unwrap().remove(k);
            d
        };
        assert_eq!(outcome(json!([1])), Outcome::Malformed);
        assert_eq!(client(Value::Null).unwrap_err().outcome, Outcome::Malformed);
        let p = policy();
        let allowed = p.allowed(URL).unwrap();
        assert_eq!(
            p.client(&allowed, b"{not json").unwrap_err().outcome,
            Outcome::Malformed
        );
        assert_eq!(
            outcome(with(
                "client_id",
                json!("https://app.example.com/other.json")
            )),
            Outcome::ClientIdMismatch
        );
        assert_eq!(outcome(without("client_id")), Outcome::ClientIdMismatch);
        assert_eq!(outcome(without("redirect_uris")), Outcome::RedirectUris);
        assert_eq!(
            outcome(with("redirect_uris", json!([]))),
            Outcome::RedirectUris
        );
        for bad in [
            "http://app.example.com/cb",
            "javascript:alert(1)",
            "https://app.example.com/cb#x",
            "not a url",
        ] {
            assert_eq!(
                outcome(with("redirect_uris", json!([bad]))),
                Outcome::RedirectUris,
                "{bad}"
            );
        }
        assert!(client(with("redirect_uris", json!(["com.example.ide:/cb"]))).is_ok());
        assert_eq!(
            outcome(without("token_endpoint_auth_method")),
            Outcome::Authentication
        );
        for method in [
            "client_secret_basic",
            "client_secret_post",
            "tls_client_auth",
        ] {
            assert_eq!(
                outcome(with("token_endpoint_auth_method", json!(method))),
                Outcome::Authentication
            );
        }
        assert_eq!(
            outcome(with("client_secret", json!("s"))),
            Outcome::Authentication
        );
        assert_eq!(outcome(with("client_name", json!(5))), Outcome::Malformed);
        assert_eq!(
            outcome(with("logo_uri", json!("javascript:alert(1)"))),
            Outcome::Malformed
        );
    }

    #[test]
    fn private_key_jwt_takes_inline_keys_or_a_jwks_uri_on_the_documents_own_origin() {
        let mut d = good();
        d["token_endpoint_auth_method"] = json!("private_key_jwt");
        assert_eq!(outcome(d.clone()), Outcome::Authentication);
        d["jwks_uri"] = json!("https://app.example.com/jwks.json");
        let c = client(d.clone()).unwrap();
        assert!(!c.public);
        assert!(matches!(c.keys, KeySource::Remote(_)));
        for elsewhere in [
            "http://app.example.com/jwks.json",
            "https://app.example.com:8443/jwks.json",
            "https://10.0.0.1/jwks.json",
            "https://other.example.com/jwks.json",
        ] {
            d["jwks_uri"] = json!(elsewhere);
            assert_eq!(outcome(d.clone()), Outcome::Authentication, "{elsewhere}");
        }
        d["jwks_uri"] = json!("https://app.example.com/jwks.json");
        d["jwks"] = json!({"keys": []});
        assert_eq!(outcome(d), Outcome::Authentication);
    }
}
