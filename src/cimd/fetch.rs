//! One fetch of a metadata document, within the limits hostile servers
//! must not move: no redirect followed, 5 s in all (resolution, connection
//! and body), at most 5 KiB read (reading stops past it), no address
//! inside unless a pattern names it (`address`), no proxy.

use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};
use url::Host;

use super::address::{Inside, PublicOnly, is_public};
use tollgate_core::metadata_documents::{
    AllowedUrl, DocumentError, FETCH_TIMEOUT, MAX_CACHE_AGE, MAX_DOCUMENT_BYTES, MIN_CACHE_AGE,
    Outcome,
};

/// A document as served, and how long it may be kept.
pub(super) struct Fetched {
    pub body: Vec<u8>,
    pub max_age: Duration,
}

/// The HTTP client of documents: no redirects, no proxy, our resolver.
pub(super) struct Fetcher {
    http: reqwest::Client,
}

impl Fetcher {
    pub(super) fn new() -> Self {
        let configure = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // A proxy would resolve the name itself, past our check.
                .no_proxy()
                .timeout(FETCH_TIMEOUT)
                .dns_resolver(PublicOnly)
                .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        };
        // The platform's store, or the bundled roots where there is none
        // (a container built from scratch).
        let http = configure().build().unwrap_or_else(|_| {
            let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok());
            configure()
                .tls_certs_only(roots)
                .build()
                .expect("an HTTP client with the bundled roots builds")
        });
        Self { http }
    }

    /// The document at `allowed.url`, or why not.
    pub(super) async fn fetch(&self, allowed: &AllowedUrl) -> Result<Fetched, DocumentError> {
        // An IP-literal host is never resolved: judged here. A pattern
        // that names the address lets it in (the file said so).
        let literal = match allowed.url.host() {
            Some(Host::Ipv4(ip)) => Some(ip.into()),
            Some(Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal
            && !is_public(ip)
            && allowed.literal_address != Some(ip)
        {
            return Err(DocumentError::new(
                Outcome::Address,
                format!("{ip} is inside and no pattern names it"),
            ));
        }
        match tokio::time::timeout(FETCH_TIMEOUT, self.get(allowed)).await {
            Ok(result) => result,
            Err(_) => Err(DocumentError::new(
                Outcome::Unreachable,
                format!("not fetched within {} s", FETCH_TIMEOUT.as_secs()),
            )),
        }
    }

    async fn get(&self, allowed: &AllowedUrl) -> Result<Fetched, DocumentError> {
        let mut response = self
            .http
            .get(allowed.url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(DocumentError::new(
                Outcome::Status,
                format!("answered {status}, a redirect (never followed)"),
            ));
        }
        if status != reqwest::StatusCode::OK {
            return Err(DocumentError::new(
                Outcome::Status,
                format!("answered {status}"),
            ));
        }
        let too_large = || {
            DocumentError::new(
                Outcome::TooLarge,
                format!("longer than {MAX_DOCUMENT_BYTES} bytes"),
            )
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_large());
        }
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                // Dropping the response closes the connection: nothing
                // more is read.
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

/// A failed request: refused by our resolver, or unreachable.
fn failed(e: reqwest::Error) -> DocumentError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(inner) = source {
        if let Some(inside) = inner.downcast_ref::<Inside>() {
            return DocumentError::new(Outcome::Address, inside.to_string());
        }
        source = inner.source();
    }
    DocumentError::new(Outcome::Unreachable, tollgate_resource::jwks::describe(&e))
}

/// `Cache-Control: max-age`, within [60 s, 24 h]; `no-store`, `no-cache`
/// or none: the least.
fn max_age(headers: &HeaderMap) -> Duration {
    let directives: Vec<String> = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if directives
        .iter()
        .any(|d| d == "no-store" || d == "no-cache")
    {
        return MIN_CACHE_AGE;
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=")?.trim().parse::<u64>().ok())
        .map_or(MIN_CACHE_AGE, |s| {
            Duration::from_secs(s).clamp(MIN_CACHE_AGE, MAX_CACHE_AGE)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(values: &[&str]) -> Duration {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CACHE_CONTROL, v.parse().unwrap());
        }
        max_age(&h)
    }

    #[test]
    fn the_cache_time_is_max_age_clamped_to_a_minute_and_a_day() {
        assert_eq!(age(&[]), MIN_CACHE_AGE);
        assert_eq!(age(&["max-age=5"]), MIN_CACHE_AGE);
        assert_eq!(age(&["public, max-age=600"]), Duration::from_secs(600));
        assert_eq!(age(&["max-age=999999999"]), MAX_CACHE_AGE);
        assert_eq!(age(&["no-store"]), MIN_CACHE_AGE);
        assert_eq!(age(&["Max-Age=120"]), Duration::from_secs(120));
    }
}
