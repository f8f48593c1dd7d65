//! The clients named by a URL that the outside admitted into a registry
//! once their document checked out, so that every lookup of the core
//! (authorization, consent, code redemption, refresh, a token's standing)
//! finds them as it finds the file's. A reload builds a registry with none.
//!
//! A lookup hands out a reference that lives as long as the registry, so
//! an admitted client is never moved or dropped: each sits in a slot set
//! once, and a changed document takes a new slot. Slots are bounded; a
//! document admitted again unchanged takes none.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use super::super::client::Client;

/// How many clients (or changed documents) one registry admits at most:
/// a reload starts again.
pub const ADMITTED_CAPACITY: usize = 4096;

#[derive(Default)]
pub(crate) struct Admitted {
    slots: Box<[OnceLock<Arc<Client>>]>,
    next: AtomicUsize,
    /// Each id's slot, and the digest of the document it was made from.
    index: RwLock<HashMap<String, (usize, [u8; 32])>>,
}

impl Admitted {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            next: AtomicUsize::new(0),
            index: RwLock::default(),
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Arc<Client>> {
        let slot = self
            .index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)?
            .0;
        self.slots.get(slot)?.get()
    }

    /// Admits `client`, made from a document whose SHA-256 is `digest`;
    /// `false` when every slot is taken.
    pub(crate) fn admit(&self, client: Client, digest: [u8; 32]) -> bool {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        if index
            .get(client.id.as_str())
            .is_some_and(|(_, d)| *d == digest)
        {
            return true;
        }
        let slot = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(cell) = self.slots.get(slot) else {
            return false;
        };
        let id = client.id.as_str().to_owned();
        if cell.set(Arc::new(client)).is_err() {
            return false;
        }
        index.insert(id, (slot, digest));
        true
    }
}

impl fmt::Debug for Admitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted")
            .field(
                "taken",
                &self.next.load(Ordering::Relaxed).min(self.slots.len()),
            )
            .field("capacity", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str, name: &str) -> Client {
        Client {
            id: id.parse().unwrap(),
            display_name: Some(name.into()),
            ..Client::default()
        }
    }

    #[test]
    fn an_admitted_client_is_found_a_changed_document_replaces_it_and_slots_are_bounded() {
        let admitted = Admitted::with_capacity(2);
        assert!(admitted.get("https://a.test/c").is_none());
        assert!(admitted.admit(client("https://a.test/c", "one"), [1; 32]));
        let first = admitted.get("https://a.test/c").unwrap().clone();
        // The same document again takes no slot.
        assert!(admitted.admit(client("https://a.test/c", "one"), [1; 32]));
        assert!(admitted.admit(client("https://a.test/c", "two"), [2; 32]));
        assert_eq!(
            admitted
                .get("https://a.test/c")
                .unwrap()
                .display_name
                .as_deref(),
            Some("two")
        );
        // The earlier one is still whole for whoever holds it.
        assert_eq!(first.display_name.as_deref(), Some("one"));
        assert!(!admitted.admit(client("https://b.test/c", "three"), [3; 32]));
        assert!(admitted.get("https://b.test/c").is_none());
        assert!(Admitted::default().get("x").is_none());
        assert!(!Admitted::default().admit(client("https://a.test/c", "one"), [1; 32]));
    }
}
