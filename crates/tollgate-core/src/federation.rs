//! Keys from elsewhere and workload identity federation: where a client's
//! or a platform's public keys come from, the platforms tollgate trusts
//! (`[[trusted_issuers]]`), and the rules that map a platform's token to
//! one client (`[[clients.federated]]`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use tollgate_jose::jose::{JwksLocation, PublicKeys};

/// Where public keys come from.
#[derive(Debug, Clone, Default)]
pub enum KeySource {
    /// No keys: this way of authenticating is not open.
    #[default]
    None,
    /// Keys known from the file (inline, or a file read at validation).
    Static(Arc<PublicKeys>),
    /// Keys fetched, cached and refetched by the outside.
    Remote(JwksLocation),
}

/// A platform whose tokens prove a workload's identity.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    /// Its name in the file, which `[[clients.federated]]` refers to.
    pub name: String,
    /// The `iss` of its tokens.
    pub issuer: String,
    pub keys: KeySource,
    /// The `aud` its tokens must hold; `None`: our own issuer.
    pub audience: Option<String>,
    /// `exp - iat` may not exceed this.
    pub max_token_lifetime: Duration,
    /// Changes with any of the above: verifications remembered under an
    /// older one are not trusted.
    pub fingerprint: [u8; 32],
}

/// A token's `sub`, as a rule expects it.
#[derive(Debug, Clone)]
pub enum SubjectPattern {
    Exact(String),
    /// With `*`, any run of characters (the only special character).
    Pattern {
        text: String,
        matcher: globset::GlobMatcher,
    },
}

impl SubjectPattern {
    /// `*` matches any run of characters; everything else is literal.
    pub fn new(text: &str) -> Result<Self, String> {
        Self::build(text, false)
    }

    /// As [`new`](Self::new), but `*` does not cross `/`: a path pattern
    /// (a `spiffe://` rule), whose `*` stands for one segment or a part.
    pub fn within_segments(text: &str) -> Result<Self, String> {
        Self::build(text, true)
    }

    fn build(text: &str, literal_separator: bool) -> Result<Self, String> {
        if !text.contains('*') {
            return Ok(Self::Exact(text.to_owned()));
        }
        let glob: String = text
            .split('*')
            .map(globset::escape)
            .collect::<Vec<_>>()
            .join("*");
        let matcher = globset::GlobBuilder::new(&glob)
            .literal_separator(literal_separator)
            // A backslash is a character like any other (`CORP\svc-*`).
            .backslash_escape(false)
            .build()
            .map_err(|e| format!("not a pattern ({e})"))?
            .compile_matcher();
        Ok(Self::Pattern {
            text: text.to_owned(),
            matcher,
        })
    }

    pub fn matches(&self, subject: &str) -> bool {
        match self {
            Self::Exact(s) => s == subject,
            Self::Pattern { matcher, .. } => matcher.is_match(subject),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Exact(s) => s,
            Self::Pattern { text, .. } => text,
        }
    }
}

/// One condition on a claim: a top-level name, or an RFC 6901 JSON
/// Pointer (starting with `/`) into nested objects; the claim must equal
/// the value.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimCondition {
    pub path: String,
    pub value: Value,
}

impl ClaimCondition {
    /// Whether `claims` (a JSON object) satisfies the condition.
    pub fn holds(&self, claims: &Value) -> bool {
        claim_at(claims, &self.path) == Some(&self.value)
    }
}

/// The claim at `path`: a top-level name, or an RFC 6901 JSON Pointer
/// (starting with `/`).
pub(crate) fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if path.starts_with('/') {
        // serde_json's pointer resolution is RFC 6901's (`~1` is `/`).
        claims.pointer(path)
    } else {
        claims.get(path)
    }
}

/// `copy_claims`: a claim of the platform token, put into the access
/// token under `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedClaim {
    /// The claim's name in the access token.
    pub name: String,
    /// Where it is in the platform token: a name or an RFC 6901 pointer.
    pub path: String,
}

/// `[[clients.federated]]`: which platform tokens are this client.
#[derive(Debug, Clone)]
pub struct FederatedRule {
    /// The `name` of a trusted issuer.
    pub issuer: String,
    pub subject: SubjectPattern,
    pub claims: Vec<ClaimCondition>,
    /// Claims of the platform token the access token carries too.
    pub copy: Vec<CopiedClaim>,
}

impl FederatedRule {
    /// Whether a token of the rule's issuer with these claims is this rule's.
    pub fn matches(&self, claims: &Value) -> bool {
        let subject = claims.get("sub").and_then(Value::as_str);
        subject.is_some_and(|s| self.subject.matches(s))
            && self.claims.iter().all(|c| c.holds(claims))
    }

    /// The claims `copy_claims` takes from a platform token; one the token
    /// lacks is left out.
    pub fn copied(&self, claims: &Value) -> serde_json::Map<String, Value> {
        self.copy
            .iter()
            .filter_map(|c| Some((c.name.clone(), claim_at(claims, &c.path)?.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn star_matches_any_run_and_nothing_else_is_special() {
        let p = SubjectPattern::new("repo:org/app:ref:refs/heads/*").unwrap();
        assert!(p.matches("repo:org/app:ref:refs/heads/main"));
        assert!(p.matches("repo:org/app:ref:refs/heads/feature/x"));
        assert!(!p.matches("repo:org/other:ref:refs/heads/main"));
        let literal = SubjectPattern::new("a?[b]*").unwrap();
        assert!(literal.matches("a?[b]anything"));
        assert!(!literal.matches("ax[b]"));
        assert!(SubjectPattern::new("exact").unwrap().matches("exact"));
        let backslash = SubjectPattern::new(r"CORP\svc-*").unwrap();
        assert!(backslash.matches(r"CORP\svc-reports"));
        assert!(!backslash.matches("CORPsvc-reports"));
        assert!(SubjectPattern::new(r"a\[*").unwrap().matches(r"a\[b"));
    }

    #[test]
    fn a_star_within_segments_does_not_cross_a_slash() {
        let p = SubjectPattern::within_segments("spiffe://td/ns/*/sa/api").unwrap();
        assert!(p.matches("spiffe://td/ns/team/sa/api"));
        assert!(!p.matches("spiffe://td/ns/team/evil/sa/api"));
        let p = SubjectPattern::within_segments("spiffe://td/ns/payments/*").unwrap();
        assert!(p.matches("spiffe://td/ns/payments/sa"));
        assert!(!p.matches("spiffe://td/ns/payments/sa/api"));
        // The same text as a subject pattern crosses it.
        let p = SubjectPattern::new("spiffe://td/ns/*/sa/api").unwrap();
        assert!(p.matches("spiffe://td/ns/team/evil/sa/api"));
    }

    #[test]
    fn claim_conditions_read_names_and_json_pointers() {
        let claims = json!({
            "sub": "system:serviceaccount:billing:worker",
            "repository": "org/app",
            "kubernetes.io": { "namespace": "billing", "pod": { "name": "w-1" } },
            "a/b": 1
        });
        let holds = |path: &str, value: Value| {
            ClaimCondition {
                path: path.into(),
                value,
            }
            .holds(&claims)
        };
        assert!(holds("repository", json!("org/app")));
        assert!(holds("/kubernetes.io/namespace", json!("billing")));
        assert!(holds("/kubernetes.io/pod/name", json!("w-1")));
        assert!(holds("/a~1b", json!(1)));
        assert!(!holds("/kubernetes.io/namespace", json!("other")));
        assert!(!holds("missing", json!("x")));
    }
}
