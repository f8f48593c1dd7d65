//! Automatic keys: tollgate keeps `keys.dir` holding the key that signs,
//! the next one (announced ahead of its turn) and the previous one (kept
//! published for `retain`), and nothing older.
//!
//! A key's activation instant is its file name
//! (`20261125T210702Z.es256.pem`), not a timestamp of the file system, so
//! copying the folder or restoring a backup keeps the schedule. [`plan`]
//! decides (pure, time passed in); [`maintain`] does the file work.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

use super::ring::{Entry, KeyRing};
use super::store::{self, KeyStoreError};
use super::{Algorithm, SigningKey};

/// The file of the single key of earlier versions; adopted, then renamed.
const LEGACY_FILE: &str = "signing-es256.pem";

const STAMP: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// The rotation settings of `[keys]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// The algorithm of keys created from now on.
    pub algorithm: Algorithm,
    /// How long each key signs.
    pub rotate_every: Duration,
    /// How long a new key is published before it signs.
    pub announce: Duration,
    /// How long a key stays published after it stopped signing.
    pub retain: Duration,
}

impl Default for Rotation {
    /// Duende IdentityServer's defaults.
    fn default() -> Self {
        const DAY: u64 = 86_400;
        Self {
            algorithm: Algorithm::ES256,
            rotate_every: Duration::from_secs(90 * DAY),
            announce: Duration::from_secs(14 * DAY),
            retain: Duration::from_secs(14 * DAY),
        }
    }
}

/// A key file in the folder, as its name describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    pub activate_at: OffsetDateTime,
    pub algorithm: Algorithm,
}

impl Stored {
    pub(crate) fn file_name(&self) -> String {
        let stamp = self.activate_at.format(STAMP).expect("UTC instants format");
        format!("{stamp}.{}.pem", self.algorithm.file_tag())
    }

    pub(crate) fn parse_file_name(name: &str) -> Option<Self> {
        let rest = name.strip_suffix(".pem")?;
        let (stamp, tag) = rest.split_once('.')?;
        let activate_at = time::PrimitiveDateTime::parse(stamp, STAMP)
            .ok()?
            .assume_utc();
        Some(Self {
            activate_at,
            algorithm: Algorithm::from_file_tag(tag)?,
        })
    }
}

/// What [`maintain`] must do to the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Create(Stored),
    /// Delete the key at this index of the (sorted) stored keys.
    Delete(usize),
}

fn after(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.checked_add(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
        .unwrap_or(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::MIDNIGHT,
        ))
}

fn before(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.checked_sub(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// When each stored key (sorted by activation) leaves the JWKS: `retain`
/// after its successor activates; the newest key stays.
pub(crate) fn publish_until(stored: &[Stored], rotation: &Rotation) -> Vec<Option<OffsetDateTime>> {
    (0..stored.len())
        .map(|i| {
            stored
                .get(i + 1)
                .map(|next| after(next.activate_at, rotation.retain))
        })
        .collect()
}

/// What to create and delete at `now`, given the stored keys sorted by
/// activation.
///
/// - No key signs (first start, or every key is still pending): create one
///   that signs at once; nothing can have cached the JWKS yet, or the
///   pending keys were published long enough.
/// - No next key yet and the active one is due within `announce` (or its
///   algorithm is no longer the configured one): create the next key,
///   activating when the active one is due, but never before it has been
///   published for `announce` (after downtime, the switch waits rather
///   than surprise cached JWKS).
/// - A key that stopped signing more than `retain` ago: delete it.
pub(crate) fn plan(stored: &[Stored], rotation: &Rotation, now: OffsetDateTime) -> Vec<Action> {
    let mut actions = Vec::new();
    let until = publish_until(stored, rotation);
    let active = stored.iter().rposition(|s| s.activate_at <= now);
    match active {
        None => actions.push(Action::Create(Stored {
            activate_at: now.replace_nanosecond(0).expect("0 is a nanosecond"),
            algorithm: rotation.algorithm,
        })),
        Some(i) if i + 1 == stored.len() => {
            let current = stored[i];
            let due = after(current.activate_at, rotation.rotate_every);
            let switch_algorithm = current.algorithm != rotation.algorithm;
            if switch_algorithm || now >= before(due, rotation.announce) {
                let earliest = after(now, rotation.announce);
                let activate_at = if switch_algorithm {
                    earliest
                } else {
                    due.max(earliest)
                };
                actions.push(Action::Create(Stored {
                    // Whole seconds: the instant is the file name.
                    activate_at: activate_at
                        .replace_nanosecond(0)
                        .expect("0 is a nanosecond")
                        + time::Duration::seconds(i64::from(activate_at.nanosecond() > 0)),
                    algorithm: rotation.algorithm,
                }));
            }
        }
        Some(_) => {} // the next key is announced already
    }
    for (i, until) in until.iter().enumerate() {
        if until.is_some_and(|u| u <= now) {
            actions.push(Action::Delete(i));
        }
    }
    actions
}

/// The next instant at which [`plan`] has work (a key to announce or to
/// delete), if any.
pub(crate) fn next_event(
    stored: &[Stored],
    rotation: &Rotation,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let deletions = publish_until(stored, rotation).into_iter().flatten();
    let announce = stored
        .last()
        .filter(|last| last.activate_at <= now)
        .map(|last| {
            before(
                after(last.activate_at, rotation.rotate_every),
                rotation.announce,
            )
        });
    deletions
        .chain(announce)
        .chain(stored.iter().map(|s| s.activate_at))
        .filter(|t| *t > now)
        .min()
}

/// The stored keys of `dir`, sorted by activation, with their files.
fn scan(dir: &Path) -> Result<Vec<(Stored, PathBuf)>, KeyStoreError> {
    let folder_err = |source| KeyStoreError::Folder {
        dir: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(folder_err)? {
        let entry = entry.map_err(folder_err)?;
        let name = entry.file_name();
        if let Some(stored) = name.to_str().and_then(Stored::parse_file_name) {
            found.push((stored, entry.path()));
        }
    }
    found.sort_by_key(|(s, _)| s.activate_at);
    Ok(found)
}

/// Gives the single key of earlier versions a name with its activation
/// (its modification time), so it rotates like any other.
fn adopt_legacy(dir: &Path) -> Result<(), KeyStoreError> {
    let legacy = dir.join(LEGACY_FILE);
    let Ok(meta) = fs::metadata(&legacy) else {
        return Ok(());
    };
    let modified = meta
        .modified()
        .map(OffsetDateTime::from)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let stored = Stored {
        activate_at: modified.replace_nanosecond(0).expect("0 is a nanosecond"),
        algorithm: Algorithm::ES256,
    };
    // A broken key stays where it is, untouched, and stops startup.
    store::read_key(&legacy)?;
    let target = dir.join(stored.file_name());
    fs::rename(&legacy, &target).map_err(|source| KeyStoreError::Io {
        file: legacy.clone(),
        source,
    })?;
    tracing::info!(from = %legacy.display(), to = %target.display(), "signing key file renamed to carry its activation");
    Ok(())
}

/// Brings `dir` in line with the rotation at `now` (creating the folder,
/// the first key, the next key; deleting expired ones), loads the ring,
/// and says when there is work again ([`next_event`]).
///
/// A key file that does not parse stops it: replacing it would invalidate
/// every token it signed. So does a key of `in_memory` (the ring in force)
/// that is still published but gone from the folder, or the folder itself
/// gone: then nothing is created or deleted, and the keys in memory keep
/// serving, until a person restores the folder (or restarts the server,
/// which starts afresh).
pub(crate) fn maintain(
    dir: &Path,
    rotation: &Rotation,
    now: OffsetDateTime,
    in_memory: Option<&KeyRing>,
) -> Result<(KeyRing, Option<OffsetDateTime>), KeyStoreError> {
    match in_memory.filter(|ring| !ring.entries().is_empty()) {
        None => {
            store::ensure_private_dir(dir)?;
            store::remove_stale_temporaries(dir);
        }
        Some(ring) => {
            let found = if dir.is_dir() { scan(dir)? } else { Vec::new() };
            let missing: Vec<String> = ring
                .entries()
                .iter()
                .filter(|e| e.publish_until.is_none_or(|until| until > now))
                .filter(|e| !found.iter().any(|(s, _)| s.activate_at == e.activate_at))
                .map(|e| e.key.kid().to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(KeyStoreError::Vanished {
                    dir: dir.to_owned(),
                    kids: missing,
                });
            }
        }
    }
    adopt_legacy(dir)?;
    let found = scan(dir)?;
    let stored: Vec<Stored> = found.iter().map(|(s, _)| *s).collect();
    for action in plan(&stored, rotation, now) {
        match action {
            Action::Create(new) => {
                let file = dir.join(new.file_name());
                let (key, pem) =
                    SigningKey::generate(new.algorithm).map_err(|error| KeyStoreError::Bad {
                        file: file.clone(),
                        error,
                    })?;
                match store::write_new(&file, pem.as_bytes()) {
                    Ok(()) => tracing::info!(
                        kid = key.kid(),
                        alg = %new.algorithm,
                        activate_at = %super::rfc3339(new.activate_at),
                        file = %file.display(),
                        "signing key created"
                    ),
                    // A replica sharing the folder created the same key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(source) => return Err(KeyStoreError::Io { file, source }),
                }
            }
            Action::Delete(i) => {
                let file = &found[i].1;
                match fs::remove_file(file) {
                    Ok(()) => tracing::info!(file = %file.display(), "retired signing key deleted"),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(KeyStoreError::Io {
                            file: file.clone(),
                            source,
                        });
                    }
                }
            }
        }
    }
    let found = scan(dir)?;
    let stored: Vec<Stored> = found.iter().map(|(s, _)| *s).collect();
    let until = publish_until(&stored, rotation);
    let mut entries = Vec::with_capacity(found.len());
    for ((stored, file), publish_until) in found.into_iter().zip(until) {
        let key = store::read_key(&file)?;
        if key.algorithm() != stored.algorithm {
            tracing::warn!(file = %file.display(), alg = %key.algorithm(), "the key's algorithm differs from its file name; using the key's");
        }
        entries.push(Entry {
            key: Arc::new(key),
            activate_at: stored.activate_at,
            publish_until,
        });
    }
    let ring = KeyRing::new(entries).rotating_every(rotation.rotate_every);
    Ok((ring, next_event(&stored, rotation, now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const DAY: u64 = 86_400;

    fn rotation() -> Rotation {
        Rotation::default()
    }

    fn stored(at: OffsetDateTime) -> Stored {
        Stored {
            activate_at: at,
            algorithm: Algorithm::ES256,
        }
    }

    /// Runs `plan` at `now` on a model of the folder.
    fn step(folder: &mut Vec<Stored>, rotation: &Rotation, now: OffsetDateTime) {
        let actions = plan(folder, rotation, now);
        let mut deleted: Vec<usize> = Vec::new();
        for a in &actions {
            match a {
                Action::Create(s) => folder.push(*s),
                Action::Delete(i) => deleted.push(*i),
            }
        }
        let mut i = 0;
        folder.retain(|_| {
            i += 1;
            !deleted.contains(&(i - 1))
        });
        folder.sort_by_key(|s| s.activate_at);
    }

    #[test]
    fn file_names_carry_the_activation_and_algorithm() {
        let s = Stored {
            activate_at: datetime!(2026-11-25 21:07:02 UTC),
            algorithm: Algorithm::EdDSA,
        };
        assert_eq!(s.file_name(), "20261125T210702Z.eddsa.pem");
        assert_eq!(Stored::parse_file_name(&s.file_name()), Some(s));
        assert_eq!(Stored::parse_file_name(".tmp.123"), None);
        assert_eq!(Stored::parse_file_name("20261125T210702Z.hs256.pem"), None);
    }

    #[test]
    fn the_automatic_lifecycle_walks_through_every_phase() {
        let r = rotation();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let day = |n: u64| t0 + Duration::from_secs(n * DAY);
        let mut folder = Vec::new();

        // First start: one key, active at once.
        step(&mut folder, &r, t0);
        assert_eq!(folder, [stored(t0)]);
        // Quiet until the next key is due to be announced (day 76).
        step(&mut folder, &r, day(75));
        assert_eq!(folder.len(), 1);
        assert_eq!(next_event(&folder, &r, day(75)), Some(day(76)));
        // Announced 14 days ahead, activating on day 90.
        step(&mut folder, &r, day(76));
        assert_eq!(folder, [stored(t0), stored(day(90))]);
        step(&mut folder, &r, day(80));
        assert_eq!(folder.len(), 2, "nothing more while the next key waits");
        // Day 90: the new key signs, the old one stays published 14 days.
        let ring_until = publish_until(&folder, &r);
        assert_eq!(ring_until, [Some(day(104)), None]);
        step(&mut folder, &r, day(100));
        assert_eq!(folder, [stored(t0), stored(day(90))]);
        // Day 104: the old key is deleted.
        step(&mut folder, &r, day(104));
        assert_eq!(folder, [stored(day(90))]);
        // And the cycle repeats: announced on day 166 for day 180.
        assert_eq!(next_event(&folder, &r, day(104)), Some(day(166)));
    }

    #[test]
    fn after_downtime_the_next_key_is_announced_before_it_signs() {
        let r = rotation();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let mut folder = vec![stored(t0)];
        // The server was off from day 10 to day 200.
        let back = t0 + Duration::from_secs(200 * DAY);
        step(&mut folder, &r, back);
        assert_eq!(
            folder,
            [stored(t0), stored(back + Duration::from_secs(14 * DAY))],
            "the overdue key is published now and signs only after `announce`"
        );
    }

    #[test]
    fn a_new_algorithm_is_announced_then_takes_over() {
        let mut r = rotation();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let mut folder = vec![stored(t0)];
        r.algorithm = Algorithm::EdDSA;
        let now = t0 + Duration::from_secs(DAY);
        step(&mut folder, &r, now);
        assert_eq!(
            folder[1],
            Stored {
                activate_at: now + Duration::from_secs(14 * DAY),
                algorithm: Algorithm::EdDSA
            }
        );
    }

    #[test]
    fn maintain_creates_loads_and_deletes_files_privately() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let r = Rotation {
            algorithm: Algorithm::ES256,
            rotate_every: Duration::from_secs(100),
            announce: Duration::from_secs(20),
            retain: Duration::from_secs(10),
        };
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let (ring, _) = maintain(&keys, &r, t0, None).unwrap();
        let first = ring.active(t0).unwrap().kid().to_owned();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&keys), 0o700);
        let file = keys.join(stored(t0).file_name());
        assert_eq!(mode(&file), 0o600);

        // Announced at 80 (due at 100, announce 20), activating at 100.
        let (ring, next) = maintain(&keys, &r, at(80), Some(&ring)).unwrap();
        assert_eq!(next, Some(at(100)), "the switch");
        assert_eq!(ring.published(at(80)).count(), 2);
        assert_eq!(ring.active(at(99)).unwrap().kid(), first);
        assert_ne!(ring.active(at(100)).unwrap().kid(), first);
        let (ring, _) = maintain(&keys, &r, at(110), Some(&ring)).unwrap();
        assert_eq!(ring.published(at(110)).count(), 1);
        assert!(!file.exists());
    }

    #[test]
    fn a_deleted_key_folder_stops_maintenance_instead_of_replacing_the_keys() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let r = Rotation::default();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let (ring, _) = maintain(&keys, &r, t0, None).unwrap();
        let kid = ring.entries()[0].key.kid().to_owned();
        let file = keys.join(stored(t0).file_name());
        let backup = fs::read(&file).unwrap();
        fs::remove_dir_all(&keys).unwrap();
        let later = t0 + Duration::from_secs(60);
        let err = maintain(&keys, &r, later, Some(&ring)).unwrap_err();
        assert!(matches!(err, KeyStoreError::Vanished { .. }), "{err}");
        assert!(
            !keys.exists(),
            "nothing is created while the keys are missing"
        );
        // Restored from a backup: maintenance resumes with the same key.
        fs::create_dir_all(&keys).unwrap();
        fs::write(&file, backup).unwrap();
        let (again, _) = maintain(&keys, &r, later, Some(&ring)).unwrap();
        assert_eq!(again.active(later).unwrap().kid(), kid);
    }

    #[test]
    fn a_start_removes_temporary_files_a_crash_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        fs::create_dir_all(&keys).unwrap();
        // A whole private key, written but never linked into place.
        let stale = keys.join(".20260101T000000Z.es256.pem.4242.tmp");
        fs::write(&stale, "-----BEGIN PRIVATE KEY-----").unwrap();
        maintain(&keys, &rotation(), datetime!(2026-01-01 0:00 UTC), None).unwrap();
        assert!(!stale.exists());
    }
}
