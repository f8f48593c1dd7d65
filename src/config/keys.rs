//! The rules of `[keys]`: automatic settings or declared key files (read
//! and parsed here, so a missing or broken file is a problem with its
//! line), and the warnings about schedules that would fail validations.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::problems::{Problems, parse_datetime};
use super::raw::{RawAlgorithm, RawKeys, RawPkcs11};
use super::{Config, DeclaredKey, KeyMode, KeyStorage, KeysConfig, duration};
use crate::keys::auto::Rotation;
use crate::keys::sealing::SealingSource;
use crate::keys::{Algorithm, PinSource, Pkcs11Key, SigningKey, rfc3339, store};

const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

fn algorithm(raw: RawAlgorithm) -> Algorithm {
    match raw {
        RawAlgorithm::ES256 => Algorithm::ES256,
        RawAlgorithm::EdDSA => Algorithm::EdDSA,
        RawAlgorithm::RS256 => Algorithm::RS256,
    }
}

fn human(d: Duration) -> String {
    crate::config::duration::show(d)
}

pub(super) fn build(
    raw: &RawKeys,
    base: &Path,
    now: OffsetDateTime,
    problems: &mut Problems<'_>,
) -> KeysConfig {
    let problems_before = problems.len();
    let sealing_file = super::sealing::declared(raw.sealing_key_file.as_deref(), base, problems);
    let mut parse = |key: &str, value: &Option<super::raw::RawDuration>, default: Duration| {
        value.as_ref().map_or(default, |d| {
            duration::parse(d).unwrap_or_else(|e| {
                problems.add(format!("keys.{key}"), e);
                default
            })
        })
    };
    let defaults = Rotation::default();
    let jwks_max_age = parse("jwks_max_age", &raw.jwks_max_age, DEFAULT_JWKS_MAX_AGE);
    let rotation = Rotation {
        algorithm: raw.algorithm.map_or(defaults.algorithm, algorithm),
        rotate_every: parse("rotate_every", &raw.rotate_every, defaults.rotate_every),
        announce: parse("announce", &raw.announce, defaults.announce),
        retain: parse("retain", &raw.retain, defaults.retain),
    };
    if raw.signing.is_empty() {
        if rotation.announce >= rotation.rotate_every {
            problems.add(
                "keys.announce",
                format!(
                    "announce ({}) must be shorter than rotate_every ({}): a key is announced \
                     while the one before it signs",
                    human(rotation.announce),
                    human(rotation.rotate_every)
                ),
            );
        }
        let dir = base.join(raw.dir.as_deref().unwrap_or("keys"));
        return KeysConfig {
            sealing: sealing_file.unwrap_or_else(|| SealingSource::Folder(dir.clone())),
            mode: KeyMode::Automatic { dir, rotation },
            jwks_max_age,
        };
    }

    let automatic_only = [
        ("dir", raw.dir.is_some()),
        ("algorithm", raw.algorithm.is_some()),
        ("rotate_every", raw.rotate_every.is_some()),
        ("announce", raw.announce.is_some()),
        ("retain", raw.retain.is_some()),
    ];
    for (key, set) in automatic_only {
        if set {
            problems.add_hinted(
                format!("keys.{key}"),
                "applies to automatic keys only, and this file declares its keys",
                Some(
                    "remove it, or remove the [[keys.signing]] entries to let tollgate manage keys",
                ),
            );
        }
    }
    let mut declared: Vec<DeclaredKey> = Vec::new();
    for (i, k) in raw.signing.iter().enumerate() {
        let path = |key: &str| format!("keys.signing[{i}].{key}");
        let activate_at = parse_datetime(&k.activate_at)
            .inspect_err(|e| problems.add(path("activate_at"), e.clone()))
            .ok();
        let retire_at = match &k.retire_at {
            None => None,
            Some(r) => parse_datetime(r)
                .inspect_err(|e| problems.add(path("retire_at"), e.clone()))
                .ok(),
        };
        if let (Some(a), Some(r)) = (activate_at, retire_at)
            && r <= a
        {
            problems.add(
                path("retire_at"),
                "retire_at must be later than activate_at",
            );
        }
        let (source, key, at) = match (&k.file, &k.pkcs11) {
            (Some(file), None) => {
                let file = base.join(file);
                match read_key(&file) {
                    Ok((key, sha256)) => (
                        KeyStorage::File { path: file, sha256 },
                        Arc::new(key),
                        "file",
                    ),
                    Err(e) => {
                        problems.add(path("file"), format!("{}: {e}", file.display()));
                        continue;
                    }
                }
            }
            (None, Some(raw)) => {
                let Some(spec) = pkcs11_spec(raw, base, &path, problems) else {
                    continue;
                };
                match SigningKey::in_token(&spec) {
                    Ok(key) => (KeyStorage::Pkcs11(spec), key, "pkcs11"),
                    Err(e) => {
                        problems.add(
                            path("pkcs11"),
                            format!(
                                "the key labelled {:?} in token {:?} ({}): {e}",
                                spec.label,
                                spec.token,
                                spec.module.display()
                            ),
                        );
                        continue;
                    }
                }
            }
            _ => {
                problems.add_hinted(
                    format!("keys.signing[{i}]"),
                    "a declared key needs exactly one of file and pkcs11",
                    Some("file = \"key.pem\" for a key file, pkcs11 = { module, token, label, pin_file } for a key in a token"),
                );
                continue;
            }
        };
        if let Some(j) = declared.iter().position(|d| d.key.kid() == key.kid()) {
            problems.add(
                path(at),
                format!("the same key as keys.signing[{j}] (kid {})", key.kid()),
            );
            continue;
        }
        if let Some(activate_at) = activate_at {
            declared.push(DeclaredKey {
                source,
                key,
                activate_at,
                retire_at,
            });
        }
    }
    let keys = KeysConfig {
        mode: KeyMode::declared(declared),
        sealing: sealing_file.unwrap_or(SealingSource::Missing),
        jwks_max_age,
    };
    if problems.len() == problems_before
        && let KeyMode::Declared { ring, .. } = &keys.mode
        && ring.active(now).is_none()
    {
        let first = ring.entries().iter().map(|e| e.activate_at).min();
        let why = match first {
            Some(first) if first > now => format!("the first activates at {}", rfc3339(first)),
            _ => "every listed key is retired".into(),
        };
        problems.add_hinted(
            "keys.signing",
            format!("no declared key signs now ({why}); tokens could not be issued"),
            Some("list a key whose activate_at is in the past and that is not retired"),
        );
    }
    keys
}

/// Where a `pkcs11 = { ... }` key is, its paths resolved against `base`
/// (a module named without a folder is left to the dynamic loader).
fn pkcs11_spec(
    raw: &RawPkcs11,
    base: &Path,
    path: &dyn Fn(&str) -> String,
    problems: &mut Problems<'_>,
) -> Option<Pkcs11Key> {
    let pin = match (&raw.pin_file, &raw.pin_env) {
        (Some(file), None) => PinSource::File(base.join(file)),
        (None, Some(var)) => PinSource::Env(var.clone()),
        _ => {
            problems.add_hinted(
                path("pkcs11"),
                "needs exactly one of pin_file and pin_env",
                Some("the PIN is never written in this file: put it in a file (pin_file) or an environment variable (pin_env)"),
            );
            return None;
        }
    };
    let module = Path::new(&raw.module);
    let module = if module.is_relative() && module.components().count() > 1 {
        base.join(module)
    } else {
        module.to_owned()
    };
    Some(Pkcs11Key {
        module,
        token: raw.token.clone(),
        label: raw.label.clone(),
        pin,
    })
}

/// The key in `file` and the SHA-256 of the bytes it was read from.
fn read_key(file: &Path) -> Result<(SigningKey, [u8; 32]), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read the key: {e}"))?;
    let pem = std::str::from_utf8(&bytes).map_err(|_| "not a PEM file (not text)".to_owned())?;
    let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
    Ok((key, tollgate_jose::digest::sha256(&bytes)))
}

/// Warnings: schedules under which some API would fail a validation.
pub(super) fn warn(config: &Config, now: OffsetDateTime, problems: &mut Problems<'_>) {
    let keys = &config.keys;
    let longest_token = config
        .registry
        .clients()
        .map(|c| c.access_token_lifetime)
        .max()
        .unwrap_or_default();
    match &keys.mode {
        KeyMode::Automatic { dir, rotation } => {
            if rotation.announce < keys.jwks_max_age {
                problems.add_hinted(
                    "keys.announce",
                    format!(
                        "a new key is announced {} before it signs, less than the JWKS cache \
                         time (keys.jwks_max_age = {}); APIs may reject its first tokens",
                        human(rotation.announce),
                        human(keys.jwks_max_age)
                    ),
                    Some("announce keys for at least as long as APIs cache the JWKS"),
                );
            }
            if rotation.retain < longest_token {
                problems.add(
                    "keys.retain",
                    format!(
                        "retired keys stay published {}, less than the longest token lifetime \
                         ({}); tokens signed just before a rotation would stop validating",
                        human(rotation.retain),
                        human(longest_token)
                    ),
                );
            }
            let exposed = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    e.file_name().to_string_lossy().ends_with(".pem")
                        && store::readable_by_others(&e.path())
                });
            if exposed {
                problems.add_hinted(
                    "keys.dir",
                    "a signing key file in this folder is readable by other users",
                    Some("chmod 600 the key files"),
                );
            }
        }
        KeyMode::Declared {
            keys: declared,
            ring,
        } => warn_declared(declared, ring, keys, longest_token, now, problems),
    }
}

fn warn_declared(
    declared: &[DeclaredKey],
    ring: &crate::keys::KeyRing,
    keys: &KeysConfig,
    longest_token: Duration,
    now: OffsetDateTime,
    problems: &mut Problems<'_>,
) {
    let index = |kid: &str| declared.iter().position(|d| d.key.kid() == kid);
    let cache = time::Duration::try_from(keys.jwks_max_age).unwrap_or(time::Duration::MAX);
    for (i, d) in declared.iter().enumerate() {
        let secret = match &d.source {
            KeyStorage::File { path, .. } => Some(("file", path)),
            KeyStorage::Pkcs11(Pkcs11Key {
                pin: PinSource::File(path),
                ..
            }) => Some(("pkcs11", path)),
            KeyStorage::Pkcs11(_) => None,
        };
        if let Some((key, file)) = secret
            && store::readable_by_others(file)
        {
            problems.add_hinted(
                format!("keys.signing[{i}].{key}"),
                format!("{} is readable by other users", file.display()),
                Some("chmod 600 it (a Kubernetes Secret volume: defaultMode: 0440 with the pod's fsGroup)"),
            );
        }
        if d.activate_at > now && d.activate_at - now < cache {
            problems.add_hinted(
                format!("keys.signing[{i}].activate_at"),
                format!(
                    "this key signs from {}, sooner than the JWKS cache time (keys.jwks_max_age \
                     = {}); an API that fetched the JWKS before the key was listed may reject \
                     its tokens",
                    rfc3339(d.activate_at),
                    human(keys.jwks_max_age)
                ),
                Some(
                    "list new keys at least a JWKS cache time (better: a day) before they activate",
                ),
            );
        }
    }
    // Every instant at which the active key can change, from now on: if no
    // key signs at one of them, tokens stop there.
    let mut instants: Vec<OffsetDateTime> = ring
        .entries()
        .iter()
        .flat_map(|e| [Some(e.activate_at), e.publish_until])
        .flatten()
        .filter(|t| *t > now)
        .collect();
    instants.sort();
    if let Some(gap) = instants.iter().find(|t| ring.active(**t).is_none()) {
        let path = ring
            .entries()
            .iter()
            .find(|e| e.publish_until == Some(*gap))
            .and_then(|e| index(e.key.kid()))
            .map_or("keys.signing".to_owned(), |i| {
                format!("keys.signing[{i}].retire_at")
            });
        problems.add_hinted(
            path,
            format!(
                "no key will sign from {}: token requests will fail from then on",
                rfc3339(*gap)
            ),
            Some("list the next key (tollgate keys generate) with an activate_at before then"),
        );
    }
    // A key retired too soon after its successor took over: tokens it
    // signed just before the switch are still unexpired.
    let lifetime = time::Duration::try_from(longest_token).unwrap_or(time::Duration::MAX);
    for e in ring.entries() {
        let Some(retire) = e.publish_until else {
            continue;
        };
        let Some(stops) = ring
            .entries()
            .iter()
            .filter(|n| n.activate_at > e.activate_at)
            .map(|n| n.activate_at)
            .min()
            .map(|t| t.min(retire))
        else {
            continue;
        };
        if retire > now
            && retire - stops < lifetime
            && let Some(i) = index(e.key.kid())
        {
            problems.add(
                format!("keys.signing[{i}].retire_at"),
                format!(
                    "this key leaves the JWKS {} after it last signs, less than the longest \
                         token lifetime ({}); its last tokens would stop validating early",
                    human((retire - stops).unsigned_abs()),
                    human(longest_token)
                ),
            );
        }
    }
}
