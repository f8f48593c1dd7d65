//! Each provider's standing as the last sign-in through it found it:
//! reachable, or why not. `/healthz` lists it per provider; the failures
//! are counted by the metric `tollgate_login_provider_failures_total`
//! (`provider`, `reason`). Nothing else degrades while a provider is down:
//! people of the file and other providers sign in as before.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::Failure;

/// The providers' last outcomes, by name.
#[derive(Default)]
pub(crate) struct ProviderStatus {
    last: Mutex<BTreeMap<String, Option<String>>>,
}

impl ProviderStatus {
    /// A sign-in through `provider` reached it.
    pub(crate) fn reached(&self, provider: &str) {
        self.set(provider, None);
    }

    /// A sign-in through `provider` failed to reach or use it.
    pub(crate) fn failed(&self, provider: &str, failure: &Failure) {
        self.set(
            provider,
            Some(format!("{}: {}", failure.kind.as_str(), failure.detail)),
        );
    }

    fn set(&self, provider: &str, why: Option<String>) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(provider.to_owned(), why);
    }

    /// `why` for a provider whose last sign-in failed, `None` for one
    /// that worked or was not tried yet.
    pub(crate) fn of(&self, provider: &str) -> Option<String> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(provider)
            .cloned()
            .flatten()
    }
}
