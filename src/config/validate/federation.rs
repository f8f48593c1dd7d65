//! The rules of keys from elsewhere: a client's `jwks` / `jwks_uri` /
//! `jwks_file`, `[[trusted_issuers]]`, and `[[clients.federated]]`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::super::duration;
use super::super::problems::Problems;
use super::super::raw::{RawFederated, RawJwks, RawTrustedIssuer};
use tollgate_core::{
    ClaimCondition, CopiedClaim, FederatedRule, KeySource, SubjectPattern, TrustedIssuer,
};
use tollgate_jose::jose::{self, JwksLocation, PublicKeys};

const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Where a holder's keys come from: at most one of inline, URL, file.
pub(super) fn key_source(
    inline: Option<&RawJwks>,
    uri: Option<&str>,
    file: Option<&str>,
    at: &dyn Fn(&str) -> String,
    base: &Path,
    problems: &mut Problems<'_>,
) -> KeySource {
    let given: Vec<&str> = [
        inline.map(|_| "jwks"),
        uri.map(|_| "jwks_uri"),
        file.map(|_| "jwks_file"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        problems.add_hinted(
            at(given[1]),
            format!(
                "{} and {} are both set; give one source of keys",
                given[0], given[1]
            ),
            Some("keep jwks (inline), jwks_uri (fetched) or jwks_file (read), not several"),
        );
        return KeySource::None;
    }
    if let Some(inline) = inline {
        let value = serde_json::json!({ "keys": inline.keys });
        return match jwk_set(&value, &at("jwks"), problems) {
            Some(keys) => KeySource::Static(keys),
            None => KeySource::None,
        };
    }
    if let Some(file) = file {
        let path = base.join(file);
        let read = std::fs::read(&path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))
            .and_then(|bytes| {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| format!("{}: not JSON ({e})", path.display()))
            });
        return match read {
            Ok(value) => match jwk_set(&value, &at("jwks_file"), problems) {
                Some(keys) => KeySource::Static(keys),
                None => KeySource::None,
            },
            Err(e) => {
                problems.add(at("jwks_file"), e);
                KeySource::None
            }
        };
    }
    match uri {
        Some(uri) => match secure_url(uri) {
            Ok(url) => KeySource::Remote(JwksLocation {
                url,
                discovery: false,
            }),
            Err(e) => {
                problems.add(at("jwks_uri"), e);
                KeySource::None
            }
        },
        None => KeySource::None,
    }
}

/// A JWK Set of public keys; each bad key is a problem at its index.
fn jwk_set(
    value: &serde_json::Value,
    path: &str,
    problems: &mut Problems<'_>,
) -> Option<Arc<PublicKeys>> {
    match jose::parse_jwk_set(value) {
        Ok(keys) if keys.0.is_empty() => {
            problems.add(path, "the JWK Set has no keys");
            None
        }
        Ok(keys) => Some(Arc::new(keys)),
        Err(list) => {
            for (i, message) in list {
                let at = match i {
                    Some(i) => format!("{path}.keys[{i}]"),
                    None => path.to_owned(),
                };
                problems.add(at, message);
            }
            None
        }
    }
}

/// An https URL, or http on loopback (tests, sidecars).
pub(super) fn secure_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    if tollgate_resource::jwks::https_or_loopback(&url) && url.host().is_some() {
        Ok(url)
    } else {
        Err(format!(
            "{text} must be https (plain http only to a loopback address)"
        ))
    }
}

/// `[[trusted_issuers]]`, each validated.
pub(super) fn trusted_issuers(
    raw: &[RawTrustedIssuer],
    base: &Path,
    problems: &mut Problems<'_>,
) -> Vec<TrustedIssuer> {
    let mut names = HashSet::new();
    let mut issuers = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let at = |k: &str| format!("trusted_issuers[{i}].{k}");
        let before = problems.len();
        if t.name.trim().is_empty() {
            problems.add(at("name"), "a trusted issuer needs a name");
        } else if !names.insert(t.name.as_str()) {
            problems.add(
                at("name"),
                format!("trusted issuer {:?} is declared twice", t.name),
            );
        }
        let issuer_url = match secure_url(&t.issuer) {
            Ok(u) => Some(u),
            Err(e) => {
                problems.add(at("issuer"), e);
                None
            }
        };
        if !issuers.insert(t.issuer.as_str()) {
            problems.add(
                at("issuer"),
                format!("issuer {} is trusted twice", t.issuer),
            );
        }
        let keys = match (&t.jwks_uri, &t.jwks_file) {
            (None, None) => match issuer_url {
                Some(url) => KeySource::Remote(JwksLocation {
                    url,
                    discovery: true,
                }),
                None => KeySource::None,
            },
            (uri, file) => key_source(None, uri.as_deref(), file.as_deref(), &at, base, problems),
        };
        let max_token_lifetime = match &t.max_token_lifetime {
            None => DEFAULT_MAX_TOKEN_LIFETIME,
            Some(d) => duration::parse(d).unwrap_or_else(|e| {
                problems.add(at("max_token_lifetime"), e);
                DEFAULT_MAX_TOKEN_LIFETIME
            }),
        };
        if problems.len() > before {
            continue;
        }
        let fingerprint = tollgate_jose::digest::sha256_parts([
            t.name.as_bytes(),
            t.issuer.as_bytes(),
            format!("{keys:?}").as_bytes(),
            t.audience.as_deref().unwrap_or("").as_bytes(),
            &max_token_lifetime.as_secs().to_be_bytes(),
        ]);
        out.push(TrustedIssuer {
            name: t.name.clone(),
            issuer: t.issuer.clone(),
            keys,
            audience: t.audience.clone(),
            max_token_lifetime,
            fingerprint,
        });
    }
    out
}

/// What is wrong with a claim name or RFC 6901 pointer, if anything.
pub(super) fn pointer_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("name the claim to copy: a claim name or a JSON Pointer such as \"/a/b\"");
    }
    // RFC 6901 §3: `~` is only ever `~0` or `~1`.
    let bad_escape = path.starts_with('/')
        && path
            .match_indices('~')
            .any(|(i, _)| !matches!(path.as_bytes().get(i + 1), Some(b'0' | b'1')));
    bad_escape.then_some("in a JSON Pointer `~` must be followed by 0 or 1 (RFC 6901)")
}

/// A client's `[[clients.federated]]` rules.
pub(super) fn rules(
    raw: &[RawFederated],
    at: &dyn Fn(&str) -> String,
    issuers: &[TrustedIssuer],
    problems: &mut Problems<'_>,
) -> Vec<FederatedRule> {
    let mut out = Vec::with_capacity(raw.len());
    for (k, r) in raw.iter().enumerate() {
        let here = |key: &str| at(&format!("federated[{k}].{key}"));
        if !issuers.iter().any(|i| i.name == r.issuer) {
            let known: Vec<&str> = issuers.iter().map(|i| i.name.as_str()).collect();
            problems.add_hinted(
                here("issuer"),
                format!(
                    "{:?} is not the name of a [[trusted_issuers]] entry",
                    r.issuer
                ),
                Some(&if known.is_empty() {
                    "declare it: [[trusted_issuers]] name = \"...\", issuer = \"https://...\""
                        .to_owned()
                } else {
                    format!("trusted issuers: {}", known.join(", "))
                }),
            );
            continue;
        }
        if r.subject.trim() == "*" || r.subject.chars().all(|c| c == '*') {
            problems.add_hinted(
                here("subject"),
                "a subject of `*` alone matches every token of the issuer",
                Some("name the workload, e.g. \"system:serviceaccount:NAMESPACE:NAME\""),
            );
            continue;
        }
        if r.subject.starts_with("system:serviceaccount:") && r.subject.ends_with(":default") {
            problems.add_hinted(
                here("subject"),
                "the Kubernetes `default` service account is every pod's that names none",
                Some("give the workload its own ServiceAccount and name that"),
            );
            continue;
        }
        let subject = match SubjectPattern::new(&r.subject) {
            Ok(s) => s,
            Err(e) => {
                problems.add(here("subject"), e);
                continue;
            }
        };
        let claims = claim_conditions(&r.claims, &here("claims"), problems);
        let mut copy = Vec::with_capacity(r.copy_claims.len());
        for (name, path) in &r.copy_claims {
            match pointer_problem(path) {
                Some(why) => problems.add(format!("{}.{name}", here("copy_claims")), why),
                None => copy.push(CopiedClaim {
                    name: name.clone(),
                    path: path.clone(),
                }),
            }
        }
        out.push(FederatedRule {
            issuer: r.issuer.clone(),
            subject,
            claims,
            copy,
        });
    }
    out
}

/// `claims = { name = value, "/pointer" = value }`: the conditions of a
/// federated rule and of a provider's admission, read one way.
pub(super) fn claim_conditions(
    raw: &std::collections::BTreeMap<String, serde_json::Value>,
    at: &str,
    problems: &mut Problems<'_>,
) -> Vec<ClaimCondition> {
    let mut claims = Vec::with_capacity(raw.len());
    for (path, value) in raw {
        if path.is_empty() {
            problems.add(at, "a claim condition needs a name or a JSON Pointer");
            continue;
        }
        claims.push(ClaimCondition {
            path: path.clone(),
            value: value.clone(),
        });
    }
    claims
}
