//! Sign-in through the company's provider (`[[login.providers]]`): an
//! upstream OpenID provider as the file declares it, and the admission
//! rules applied to the claims of its verified id token. Pure: the relying
//! party (discovery, the code exchange, the id token's signature) is the
//! server's; what comes here is a token already verified.
//!
//! The client secret is not here: the server reads it from the
//! environment or a file when it talks to the provider, so no `Debug` of
//! the registry can show it.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::federation::{ClaimCondition, claim_at};

/// The longest `sub` a provider may give (OpenID Connect Core §2: at most
/// 255 ASCII characters); a longer one is refused, not cut.
const MAX_UPSTREAM_SUB_LEN: usize = 255;

/// A provider's name: the part of her `sub` before `|`. Never holds `|`,
/// so `corp|<sub>` splits one way only; never a username of the file,
/// which cannot hold `|` either.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderName(String);

impl ProviderName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProviderName {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // It is a path segment of the adapter's route to the provider and
        // the prefix of a `sub`: a short, plain word.
        if s.is_empty() || s.len() > 64 {
            Err("a provider's name is 1 to 64 characters long")
        } else if s.contains('|') {
            Err("a provider's name may not contain '|' (it separates the name from the subject)")
        } else if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            Err("a provider's name may hold only letters, digits, '-', '_' and '.'")
        } else {
            Ok(Self(s.to_owned()))
        }
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[[login.providers]]`: an upstream OpenID provider and who of its
/// people may sign in.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: ProviderName,
    /// "Sign in with …"; the name when absent.
    pub display_name: Option<String>,
    /// Its issuer identifier: discovery is read from it, and its id
    /// tokens' `iss` must equal it.
    pub issuer: String,
    /// Our client id at the provider: its id tokens' `aud`.
    pub client_id: String,
    /// Asked of the provider (`openid` always among them).
    pub scopes: Vec<String>,
    /// Lower case; empty: no rule on the email.
    pub allowed_email_domains: Vec<String>,
    /// Every condition must hold (the federated rules' matcher).
    pub claims: Vec<ClaimCondition>,
    /// Where her groups are in the id token: a name or an RFC 6901 pointer.
    pub groups_claim: Option<String>,
}

impl Provider {
    /// What the sign-in page's button says.
    pub fn label(&self) -> &str {
        self.display_name.as_deref().unwrap_or(self.name.as_str())
    }

    /// Whether anyone with an account at the provider may sign in (no
    /// rule at all): `check` warns of it.
    pub fn admits_everyone(&self) -> bool {
        self.allowed_email_domains.is_empty() && self.claims.is_empty()
    }

    /// The person a verified id token's claims make, if the rules admit
    /// her.
    pub fn admit(&self, claims: &Value) -> Result<Person, Refused> {
        let sub = match claims.get("sub").and_then(Value::as_str) {
            Some(s) if !s.is_empty() && s.len() <= MAX_UPSTREAM_SUB_LEN => s,
            _ => {
                return Err(Refused {
                    rule: Rule::Subject,
                    reason: "the id token has no usable sub".into(),
                });
            }
        };
        let email = claims.get("email").and_then(Value::as_str);
        // OpenID Connect Core §5.1: a boolean; "true" as a string is not.
        let email_verified = claims.get("email_verified") == Some(&Value::Bool(true));
        if !self.allowed_email_domains.is_empty() {
            let domain = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d);
            let reason = match domain {
                None => Some("the id token has no email".to_owned()),
                Some(_) if !email_verified => Some("the email is not verified".to_owned()),
                Some(d)
                    if !self
                        .allowed_email_domains
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(d)) =>
                {
                    Some(format!("the email domain {d} is not allowed"))
                }
                Some(_) => None,
            };
            if let Some(reason) = reason {
                return Err(Refused {
                    rule: Rule::EmailDomain,
                    reason,
                });
            }
        }
        if let Some(failed) = self.claims.iter().find(|c| !c.holds(claims)) {
            return Err(Refused {
                rule: Rule::Claim(failed.path.clone()),
                reason: format!("the claim {} does not hold the value required", failed.path),
            });
        }
        Ok(Person {
            sub: format!("{}|{sub}", self.name),
            name: claims
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            email: email.map(str::to_owned),
            email_verified,
            groups: self
                .groups_claim
                .as_deref()
                .and_then(|path| claim_at(claims, path))
                .map(groups)
                .unwrap_or_default(),
        })
    }
}

/// Groups as providers send them: an array of strings (others in it
/// skipped), or one string.
fn groups(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A person signed in through a provider, her claims as copied at
/// sign-in: nothing keeps them but her session and her tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// `<provider name>|<upstream sub>`.
    pub sub: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub groups: Vec<String>,
}

impl Person {
    /// Her claims as a code and her tokens carry them
    /// (`CodeGrant::claims`); absent ones are left out.
    pub fn claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        if let Some(name) = &self.name {
            claims.insert("name".into(), name.clone().into());
        }
        if let Some(email) = &self.email {
            claims.insert("email".into(), email.clone().into());
            claims.insert("email_verified".into(), self.email_verified.into());
        }
        if !self.groups.is_empty() {
            claims.insert("groups".into(), self.groups.clone().into());
        }
        claims
    }

    /// Whether she is one of `groups` (a client's `allowed_groups`; empty
    /// admits everyone), as for users of the file.
    pub fn admitted_by(&self, groups: &[String]) -> bool {
        groups.is_empty() || groups.iter().any(|g| self.groups.contains(g))
    }
}

/// The rule that refused a person: what her page names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The id token has no usable `sub`.
    Subject,
    /// `allowed_email_domains` (a verified email in one of them).
    EmailDomain,
    /// A `claims` condition, by its path.
    Claim(String),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subject => f.write_str("the provider must identify you (sub)"),
            Self::EmailDomain => f.write_str("allowed_email_domains"),
            Self::Claim(path) => write!(f, "the condition on the claim {path}"),
        }
    }
}

/// A person the provider's rules do not admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Shown to her.
    pub rule: Rule,
    /// For the audit log only: it may name her claims' values (her email
    /// domain), which the page does not.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn corp() -> Provider {
        Provider {
            name: "corp".parse().unwrap(),
            display_name: None,
            issuer: "https://login.corp.example".into(),
            client_id: "tollgate".into(),
            scopes: vec!["openid".into(), "email".into()],
            allowed_email_domains: vec!["corp.example".into()],
            claims: Vec::new(),
            groups_claim: Some("groups".into()),
        }
    }

    fn alice() -> Value {
        json!({
            "sub": "00u1", "name": "Alice Smith", "email": "alice@Corp.Example",
            "email_verified": true, "groups": ["staff", "admins", 7]
        })
    }

    #[test]
    fn an_admitted_person_is_the_providers_name_and_her_sub_with_her_claims_copied() {
        let alice = corp().admit(&alice()).unwrap();
        assert_eq!(alice.sub, "corp|00u1");
        assert_eq!(alice.name.as_deref(), Some("Alice Smith"));
        assert_eq!(alice.email.as_deref(), Some("alice@Corp.Example"));
        assert!(alice.email_verified);
        assert_eq!(alice.groups, ["staff", "admins"]);
        assert_eq!(
            Value::Object(alice.claims()),
            json!({"name": "Alice Smith", "email": "alice@Corp.Example",
                   "email_verified": true, "groups": ["staff", "admins"]})
        );
        assert!(alice.admitted_by(&["admins".into()]));
        assert!(!alice.admitted_by(&["finance".into()]));
    }

    #[test]
    fn the_email_domain_rule_needs_a_verified_email_in_the_list() {
        let refused = |claims: Value| corp().admit(&claims).unwrap_err();
        let mut other = alice();
        other["email"] = json!("bob@other.example");
        assert_eq!(refused(other.clone()).rule, Rule::EmailDomain);
        assert!(refused(other).reason.contains("other.example"));
        let mut unverified = alice();
        unverified["email_verified"] = json!("true");
        assert_eq!(refused(unverified).rule, Rule::EmailDomain);
        let mut none = alice();
        none.as_object_mut().unwrap().remove("email");
        assert_eq!(refused(none).rule, Rule::EmailDomain);
        // The domain is what follows the last `@`.
        let mut tricky = alice();
        tricky["email"] = json!("x@corp.example@evil.example");
        assert_eq!(refused(tricky).rule, Rule::EmailDomain);
        // A subdomain is another domain.
        let mut sub = alice();
        sub["email"] = json!("x@eu.corp.example");
        assert_eq!(refused(sub).rule, Rule::EmailDomain);
    }

    #[test]
    fn claim_conditions_use_the_federated_matcher_names_and_pointers() {
        let provider = Provider {
            allowed_email_domains: Vec::new(),
            claims: vec![ClaimCondition {
                path: "/groups/0".into(),
                value: json!("staff"),
            }],
            ..corp()
        };
        assert!(provider.admit(&alice()).is_ok());
        let mut contractor = alice();
        contractor["groups"] = json!(["contractors", "staff"]);
        let refused = provider.admit(&contractor).unwrap_err();
        assert_eq!(refused.rule, Rule::Claim("/groups/0".into()));
        assert!(refused.rule.to_string().contains("/groups/0"));
        // The page names the rule, never her values.
        assert!(!refused.rule.to_string().contains("contractors"));
    }

    #[test]
    fn a_token_without_a_usable_sub_is_refused() {
        let provider = Provider {
            allowed_email_domains: Vec::new(),
            ..corp()
        };
        assert!(provider.admits_everyone());
        for sub in [json!(null), json!(""), json!(12), json!("x".repeat(256))] {
            let mut claims = alice();
            claims["sub"] = sub;
            assert_eq!(provider.admit(&claims).unwrap_err().rule, Rule::Subject);
        }
        // A `|` in the upstream sub is hers: the name is split at the first.
        let mut claims = alice();
        claims["sub"] = json!("a|b");
        assert_eq!(provider.admit(&claims).unwrap().sub, "corp|a|b");
    }

    #[test]
    fn groups_may_be_one_string_or_nested_and_are_optional() {
        let mut provider = Provider {
            groups_claim: Some("/realm_access/roles".into()),
            ..corp()
        };
        let mut claims = alice();
        claims["realm_access"] = json!({"roles": ["staff"]});
        assert_eq!(provider.admit(&claims).unwrap().groups, ["staff"]);
        provider.groups_claim = Some("group".into());
        claims["group"] = json!("one");
        assert_eq!(provider.admit(&claims).unwrap().groups, ["one"]);
        provider.groups_claim = None;
        let person = provider.admit(&claims).unwrap();
        assert!(person.groups.is_empty());
        assert!(!person.claims().contains_key("groups"));
    }

    #[test]
    fn provider_names_are_plain_words_without_the_separator() {
        assert!("corp".parse::<ProviderName>().is_ok());
        assert!("corp-eu_1.x".parse::<ProviderName>().is_ok());
        for bad in ["", "a|b", "a b", "a/b", &"x".repeat(65)] {
            assert!(bad.parse::<ProviderName>().is_err(), "{bad}");
        }
    }
}
