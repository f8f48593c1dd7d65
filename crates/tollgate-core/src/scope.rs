//! Scope values and sets (RFC 6749 §3.3).

use std::fmt;
use std::str::FromStr;

/// One scope value: `1*( %x21 / %x23-5B / %x5D-7E )`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeToken(std::sync::Arc<str>);

/// Why a string is not a scope token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("a scope value may not be empty")]
    Empty,
    #[error(
        "scope value {0:?} has a character RFC 6749 §3.3 forbids (space, '\"', '\\' or non-ASCII)"
    )]
    BadChar(String),
}

impl ScopeToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ScopeToken {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ScopeError::Empty);
        }
        let nqchar = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if s.bytes().all(nqchar) {
            Ok(Self(s.into()))
        } else {
            Err(ScopeError::BadChar(s.to_owned()))
        }
    }
}

impl fmt::Display for ScopeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ordered set of scope tokens without duplicates. Order is kept because
/// the `scope` we answer with reads best in the order it was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<ScopeToken>);

impl ScopeSet {
    pub fn iter(&self) -> impl Iterator<Item = &ScopeToken> {
        self.0.iter()
    }

    /// The member equal to `scope`: the declared scope, shared by every
    /// client that names it (one allocation for 100,000 clients).
    pub fn get(&self, scope: &ScopeToken) -> Option<&ScopeToken> {
        self.0.iter().find(|s| *s == scope)
    }

    pub fn contains(&self, scope: &ScopeToken) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Adds a token unless it is already present.
    pub fn insert(&mut self, scope: ScopeToken) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }
}

impl FromIterator<ScopeToken> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = ScopeToken>>(iter: I) -> Self {
        let mut set = ScopeSet::default();
        for s in iter {
            set.insert(s);
        }
        set
    }
}

/// Parses the space-delimited `scope` parameter. Runs of spaces are
/// tolerated (clients join lists sloppily); any other whitespace is not a
/// delimiter and so fails as a bad character.
impl FromStr for ScopeSet {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(' ')
            .filter(|t| !t.is_empty())
            .map(ScopeToken::from_str)
            .collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens_follow_rfc_6749_section_3_3() {
        for ok in ["api1", "orders.read", "a!#[]^~", "urn:x:y"] {
            assert!(ok.parse::<ScopeToken>().is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(bad.parse::<ScopeToken>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_scope_string_is_deduplicated_and_keeps_its_order() {
        let set: ScopeSet = "b  a b".parse().unwrap();
        assert_eq!(set.to_string(), "b a");
        assert!("".parse::<ScopeSet>().unwrap().is_empty());
        assert!("a\tb".parse::<ScopeSet>().is_err());
    }
}
