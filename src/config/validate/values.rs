//! Values several sections share: lists of declared scopes, stored
//! secrets (of clients and of API resources), and group names (of users
//! and of clients' `allowed_groups`).

use super::super::problems::{Problems, parse_datetime};
use super::super::raw::RawSecret;
use tollgate_core::{ClientSecret, ScopeSet, ScopeToken, SecretHash, Secrets};

/// Parses a list of scope names, each of which must be declared.
pub(super) fn known_scopes(
    names: &[String],
    path: &str,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> ScopeSet {
    let mut set = ScopeSet::default();
    for (j, name) in names.iter().enumerate() {
        match name.parse::<ScopeToken>() {
            Ok(s) if declared.contains(&s) => set.insert(declared.get(&s).cloned().unwrap_or(s)),
            Ok(s) => {
                let closest = declared
                    .iter()
                    .map(|d| (strsim::jaro_winkler(s.as_str(), d.as_str()), d))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                let hint = match closest {
                    Some((_, d)) => format!("did you mean `{d}`?"),
                    None => "add [[api_scopes]] name = \"...\" or fix the spelling".to_owned(),
                };
                problems.add_hinted(
                    format!("{path}[{j}]"),
                    format!("scope {s} is not declared in [[api_scopes]]"),
                    Some(&hint),
                )
            }
            Err(e) => problems.add(format!("{path}[{j}]"), e.to_string()),
        }
    }
    set
}

/// `[[...secrets]]`: Argon2id hashes only, and their fingerprint.
pub(super) fn secrets(raw: &[RawSecret], path: &str, problems: &mut Problems<'_>) -> Secrets {
    let mut list = Vec::with_capacity(raw.len());
    for (j, s) in raw.iter().enumerate() {
        let hash = s.hash.parse::<SecretHash>().map_err(|e| {
            let plaintext = !s.hash.starts_with('$');
            let (message, hint) = if plaintext {
                (
                    "this looks like a plaintext secret; only Argon2id hashes may be stored"
                        .to_owned(),
                    Some("run `tollgate hash-secret` and paste the $argon2id$... line it prints"),
                )
            } else {
                (e, None)
            };
            problems.add_hinted(format!("{path}[{j}].hash"), message, hint)
        });
        let expires = match &s.expires {
            None => Ok(None),
            Some(raw) => parse_datetime(raw)
                .map(Some)
                .map_err(|e| problems.add(format!("{path}[{j}].expires"), e)),
        };
        if let (Ok(hash), Ok(expires)) = (hash, expires) {
            list.push(ClientSecret { hash, expires });
        }
    }
    let mut parts: Vec<Vec<u8>> = Vec::with_capacity(raw.len() * 2);
    for (raw, secret) in raw.iter().zip(&list) {
        parts.push(raw.hash.as_bytes().to_vec());
        let expires = secret
            .expires
            .map_or(i128::MIN, |e| e.unix_timestamp_nanos());
        parts.push(expires.to_be_bytes().to_vec());
    }
    Secrets {
        fingerprint: tollgate_jose::digest::sha256_parts(parts.iter().map(Vec::as_slice)),
        list,
    }
}

/// The longest group name: a claim value, kept to a sensible size.
const MAX_GROUP_LEN: usize = 255;

/// A group name, of a user or of a client's `allowed_groups`: compared
/// exactly, so no stray spaces and no control characters.
pub(super) fn group_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("a group name may not be empty".into())
    } else if name.len() > MAX_GROUP_LEN {
        Err("a group name may be at most 255 bytes long".into())
    } else if name.trim() != name {
        Err(format!(
            "group {name:?} begins or ends with a space; groups are compared exactly"
        ))
    } else if name.chars().any(char::is_control) {
        Err(format!("group {name:?} holds a control character"))
    } else {
        Ok(())
    }
}
