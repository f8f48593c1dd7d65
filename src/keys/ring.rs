//! The key ring: every key with its schedule, and what is published and
//! what signs at a given instant. Pure: no IO, time passed in, so every
//! replica that reads the same schedule agrees, and tests can walk the
//! clock through every phase.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Algorithm, Jwk, SigningKey};

/// One key and its schedule.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Arc<SigningKey>,
    /// Signs from here until a later-activated key takes over.
    pub activate_at: OffsetDateTime,
    /// Dropped from the JWKS (and never signs) from here on; `None`: kept.
    pub publish_until: Option<OffsetDateTime>,
}

impl Entry {
    fn published_at(&self, now: OffsetDateTime) -> bool {
        self.publish_until.is_none_or(|until| now < until)
    }
}

/// The keys, sorted by activation, and the JWKS of each period in which the
/// published set stays the same, serialized once.
#[derive(Debug)]
pub struct KeyRing {
    entries: Vec<Entry>,
    /// `(from, jwks)`, sorted by `from`; the first starts at the beginning
    /// of time.
    jwks: Vec<(Option<OffsetDateTime>, bytes::Bytes)>,
    /// Automatic keys: each key signs this long at most, even before its
    /// successor exists.
    rotate_every: Option<std::time::Duration>,
}

impl KeyRing {
    pub fn new(mut entries: Vec<Entry>) -> Self {
        entries.sort_by_key(|e| e.activate_at);
        let mut starts: Vec<OffsetDateTime> =
            entries.iter().filter_map(|e| e.publish_until).collect();
        starts.sort();
        starts.dedup();
        let segment = |at: Option<OffsetDateTime>| {
            // Newest first: a client that takes the first key gets the one
            // that signs now or next.
            let keys: Vec<&Jwk> = entries
                .iter()
                .rev()
                .filter(|e| at.is_none_or(|t| e.published_at(t)))
                .map(|e| e.key.jwk())
                .collect();
            bytes::Bytes::from(
                serde_json::to_vec(&serde_json::json!({ "keys": keys })).expect("JWKs serialize"),
            )
        };
        let mut jwks = vec![(None, segment(None))];
        jwks.extend(starts.into_iter().map(|t| (Some(t), segment(Some(t)))));
        Self {
            entries,
            jwks,
            rotate_every: None,
        }
    }

    /// A ring of automatic keys, rotated every `every`.
    pub fn rotating_every(mut self, every: std::time::Duration) -> Self {
        self.rotate_every = Some(every);
        self
    }

    /// Every entry, oldest activation first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The key that signs at `now`: of the published keys already
    /// activated, the one activated last.
    pub fn active(&self, now: OffsetDateTime) -> Option<&Arc<SigningKey>> {
        self.active_entry(now).map(|e| &e.key)
    }

    fn active_entry(&self, now: OffsetDateTime) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.activate_at <= now && e.published_at(now))
    }

    /// The keys in the JWKS at `now`, newest first.
    pub fn published(&self, now: OffsetDateTime) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .rev()
            .filter(move |e| e.published_at(now))
    }

    /// The JWKS document at `now`.
    pub fn jwks_json(&self, now: OffsetDateTime) -> &bytes::Bytes {
        let i = self
            .jwks
            .partition_point(|(from, _)| from.is_none_or(|f| f <= now));
        &self.jwks[i.saturating_sub(1)].1
    }

    /// The algorithms of the keys published at `now`, for discovery.
    pub fn algorithms(&self, now: OffsetDateTime) -> Vec<Algorithm> {
        let mut algs: Vec<Algorithm> = self.published(now).map(|e| e.key.algorithm()).collect();
        algs.sort();
        algs.dedup();
        algs
    }

    /// When the key active at `now` stops signing: the next activation, its
    /// own retirement or (automatic keys) its rotation, whichever is first;
    /// `None` if nothing is scheduled.
    pub fn active_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let active = self.active_entry(now)?;
        let next = self
            .entries
            .iter()
            .filter(|e| e.activate_at > now && e.published_at(e.activate_at))
            .map(|e| e.activate_at)
            .min();
        let rotation = self.rotate_every.and_then(|every| {
            active
                .activate_at
                .checked_add(time::Duration::try_from(every).ok()?)
        });
        [next, active.publish_until, rotation]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    fn key() -> Arc<SigningKey> {
        Arc::new(SigningKey::generate(Algorithm::ES256).unwrap().0)
    }

    fn kids(ring: &KeyRing, now: OffsetDateTime) -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(ring.jwks_json(now)).unwrap();
        let from_doc: Vec<String> = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        let from_entries: Vec<String> = ring
            .published(now)
            .map(|e| e.key.kid().to_owned())
            .collect();
        assert_eq!(from_doc, from_entries, "pre-serialized JWKS at {now}");
        from_doc
    }

    #[test]
    fn a_declared_schedule_publishes_activates_and_retires_in_order() {
        let (a, b) = (key(), key());
        let t0 = datetime!(2026-11-01 0:00 UTC);
        let switch = datetime!(2027-02-01 0:00 UTC);
        let retire_a = datetime!(2027-02-15 0:00 UTC);
        let ring = KeyRing::new(vec![
            Entry {
                key: b.clone(),
                activate_at: switch,
                publish_until: None,
            },
            Entry {
                key: a.clone(),
                activate_at: t0,
                publish_until: Some(retire_a),
            },
        ]);
        let (ka, kb) = (a.kid().to_owned(), b.kid().to_owned());
        // Before anything activates: both published, nothing signs.
        let before = t0 - Duration::days(1);
        assert!(ring.active(before).is_none());
        assert_eq!(kids(&ring, before), [kb.clone(), ka.clone()]);
        // A signs; B is announced.
        let phase1 = t0 + Duration::days(10);
        assert_eq!(ring.active(phase1).unwrap().kid(), ka);
        assert_eq!(kids(&ring, phase1), [kb.clone(), ka.clone()]);
        assert_eq!(ring.active_until(phase1), Some(switch));
        // B signs from the switch instant on; A stays published.
        assert_eq!(
            ring.active(switch - Duration::seconds(1)).unwrap().kid(),
            ka
        );
        assert_eq!(ring.active(switch).unwrap().kid(), kb);
        assert_eq!(kids(&ring, switch), [kb.clone(), ka.clone()]);
        assert_eq!(ring.active_until(switch), None);
        // A is dropped at its retirement.
        assert_eq!(
            kids(&ring, retire_a - Duration::seconds(1)),
            [kb.clone(), ka]
        );
        assert_eq!(kids(&ring, retire_a), std::slice::from_ref(&kb));
        assert_eq!(ring.active(retire_a).unwrap().kid(), kb);
        assert_eq!(ring.algorithms(retire_a), [Algorithm::ES256]);
    }

    #[test]
    fn a_retired_key_never_signs_even_without_a_successor() {
        let a = key();
        let t0 = datetime!(2026-11-01 0:00 UTC);
        let ring = KeyRing::new(vec![Entry {
            key: a,
            activate_at: t0,
            publish_until: Some(t0 + Duration::days(30)),
        }]);
        assert!(ring.active(t0 + Duration::days(1)).is_some());
        assert_eq!(
            ring.active_until(t0 + Duration::days(1)),
            Some(t0 + Duration::days(30))
        );
        assert!(ring.active(t0 + Duration::days(30)).is_none());
        assert!(kids(&ring, t0 + Duration::days(30)).is_empty());
    }
}
