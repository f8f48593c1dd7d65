//! Clients named by a URL (Client ID Metadata Documents): the document
//! fetched (`fetch`, from addresses `address` allows), kept as long as its
//! `Cache-Control` says within [60 s, 24 h] in a bounded cache, and
//! turned into a client by the core under the file's policy in force. Each
//! outcome is counted and audited; the person sees one page for all.

mod address;
mod fetch;

use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::observe::{audit, metrics::Metrics};
use tollgate_core::Registry;
use tollgate_core::metadata_documents::{DocumentError, Outcome, is_url_client_id};
use tollgate_jose::clock::SharedClock;

/// How many documents are kept at most.
const CAPACITY: usize = 1024;

/// A valid document as served, and until when it is used without a fetch.
#[derive(Clone)]
struct Cached {
    body: Arc<[u8]>,
    until: OffsetDateTime,
}

/// The documents of clients named by a URL.
pub(crate) struct Documents {
    fetcher: fetch::Fetcher,
    cache: quick_cache::sync::Cache<String, Cached>,
    clock: SharedClock,
}

impl Documents {
    pub(crate) fn new(clock: SharedClock) -> Self {
        Self {
            fetcher: fetch::Fetcher::new(),
            cache: quick_cache::sync::Cache::new(CAPACITY),
            clock,
        }
    }

    /// Admits the client `client_id` names into `registry` (whose policy
    /// rules), its document from the cache or fetched, so the core's
    /// lookups find it; counted in `metrics` and audited either way. A
    /// refused one is not admitted: the core then answers as for any
    /// unknown client, whatever the reason.
    pub(crate) async fn admit(
        &self,
        registry: &Registry,
        client_id: &str,
        metrics: &Metrics,
        address: Option<IpAddr>,
    ) -> Result<(), DocumentError> {
        let outcome = self.resolve(registry, client_id).await;
        let (kind, detail) = match &outcome {
            Ok(_) => (Outcome::Accepted, ""),
            Err(e) => (e.outcome, e.detail.as_str()),
        };
        metrics.metadata_document(kind);
        audit::metadata_document(client_id, kind.as_str(), detail, address);
        outcome
    }

    /// [`Self::admit`] for the `client_id` of a request's form or query
    /// (`params`), when it is a URL and the file allows such clients;
    /// anything else is left to the core, as is a refusal (the outcome is
    /// counted and audited there).
    pub(crate) async fn admit_named_in(
        &self,
        registry: &Registry,
        params: &[u8],
        metrics: &Metrics,
        address: Option<IpAddr>,
    ) {
        if !registry.metadata_documents().enabled() {
            return;
        }
        let client_id = form_urlencoded::parse(params)
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v);
        if let Some(id) = client_id.filter(|id| is_url_client_id(id)) {
            let _ = self.admit(registry, &id, metrics, address).await;
        }
    }

    async fn resolve(&self, registry: &Registry, client_id: &str) -> Result<(), DocumentError> {
        let policy = registry.metadata_documents();
        let allowed = policy.allowed(client_id)?;
        let now = self.clock.now();
        let body = match self.cache.get(client_id).filter(|c| now < c.until) {
            Some(cached) => cached.body,
            None => {
                let fetched = self.fetcher.fetch(&allowed).await?;
                // Judged before it is kept: only a valid document is, so
                // a fixed one is read at once.
                policy.client(&allowed, &fetched.body)?;
                let body: Arc<[u8]> = fetched.body.into();
                self.cache.insert(
                    client_id.to_owned(),
                    Cached {
                        body: body.clone(),
                        until: now + fetched.max_age,
                    },
                );
                body
            }
        };
        // Judged against the policy in force (a reload may have changed
        // it since the document was fetched).
        let client = policy.client(&allowed, &body)?;
        if registry.admit(client, tollgate_jose::digest::sha256(&body)) {
            Ok(())
        } else {
            Err(DocumentError::new(
                Outcome::NotAllowed,
                "not admitted: the file has a client of that id, or too many URL clients were admitted since the last reload",
            ))
        }
    }
}
