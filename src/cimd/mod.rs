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
use tollgate_core::Client;
use tollgate_core::metadata_documents::{DocumentError, MetadataDocuments, Outcome};
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

    /// The client `client_id` names under `policy`, from the cache or
    /// fetched; counted in `metrics` and audited either way.
    pub(crate) async fn client(
        &self,
        policy: &MetadataDocuments,
        client_id: &str,
        metrics: &Metrics,
        address: Option<IpAddr>,
    ) -> Result<Arc<Client>, DocumentError> {
        let outcome = self.resolve(policy, client_id).await;
        let (kind, detail) = match &outcome {
            Ok(_) => (Outcome::Accepted, ""),
            Err(e) => (e.outcome, e.detail.as_str()),
        };
        metrics.metadata_document(kind);
        audit::metadata_document(client_id, kind.as_str(), detail, address);
        outcome
    }

    async fn resolve(
        &self,
        policy: &MetadataDocuments,
        client_id: &str,
    ) -> Result<Arc<Client>, DocumentError> {
        let allowed = policy.allowed(client_id)?;
        let now = self.clock.now();
        if let Some(cached) = self.cache.get(client_id).filter(|c| now < c.until) {
            // Judged again: the policy may have changed since.
            return policy.client(&allowed, &cached.body).map(Arc::new);
        }
        let fetched = self.fetcher.fetch(&allowed).await?;
        let client = policy.client(&allowed, &fetched.body)?;
        // Only a valid document is kept: a fixed one is read at once.
        self.cache.insert(
            client_id.to_owned(),
            Cached {
                body: fetched.body.into(),
                until: now + fetched.max_age,
            },
        );
        Ok(Arc::new(client))
    }
}
