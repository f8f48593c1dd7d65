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
    last: Mutex<BTreeMap<String, Option<Why>>>,
}

/// Why a provider's last sign-in failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Why {
    /// What failed (`discovery`, `token_endpoint`, …): fit for anyone.
    pub(crate) kind: &'static str,
    /// In words, with the provider's answer or the network's error: it may
    /// name internal hosts and addresses, so only the management listener
    /// shows it.
    pub(crate) detail: String,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl ProviderStatus {
    /// A sign-in through `provider` reached it.
    pub(crate) fn reached(&self, provider: &str) {
        self.set(provider, None);
    }

    /// A sign-in through `provider` failed to reach or use it.
    pub(crate) fn failed(&self, provider: &str, failure: &Failure) {
        let why = Why {
            kind: failure.kind.as_str(),
            detail: failure.detail.clone(),
        };
        self.set(provider, Some(why));
    }

    fn set(&self, provider: &str, why: Option<Why>) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(provider.to_owned(), why);
    }

    /// `why` for a provider whose last sign-in failed, `None` for one
    /// that worked or was not tried yet.
    pub(crate) fn of(&self, provider: &str) -> Option<Why> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(provider)
            .cloned()
            .flatten()
    }
}
