//! What the file says a client's credentials and delegations must be,
//! as the core reads them: the one certificate rule of a client
//! (`tls_client_auth_*`) and its token exchange rules
//! (`[[clients.token_exchange]]`). Data beside [`Client`](super::Client);
//! the methods and grants that apply them import it, never the other way.

use super::dn::DistinguishedName;
use super::federation::SubjectPattern;
use super::spiffe;

/// What a client's certificate must say (`tls_client_auth`): one rule.
#[derive(Debug, Clone)]
pub enum CertificateRule {
    /// `tls_client_auth_subject_dn`.
    SubjectDn(DistinguishedName),
    /// `tls_client_auth_san_dns`: a DNS name, compared without case.
    SanDns(String),
    /// `tls_client_auth_san_uri`: a URI; in a `spiffe://` one, `*` matches
    /// any run of characters within one segment of the path.
    SanUri(SubjectPattern),
}

impl CertificateRule {
    /// The trust domain of a `spiffe://` URI rule.
    pub fn trust_domain(&self) -> Option<&str> {
        match self {
            Self::SanUri(p) => spiffe::trust_domain(p.as_str()),
            _ => None,
        }
    }
}

/// Whose tokens a rule accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectIssuer {
    /// Tokens tollgate issued (`subject_issuer = "self"`).
    Own,
    /// Tokens of the `[[trusted_issuers]]` entry of this name.
    Trusted(String),
}

/// One `[[clients.token_exchange]]` entry.
#[derive(Debug, Clone)]
pub struct ExchangeRule {
    pub subject_issuer: SubjectIssuer,
    /// The subject token's `aud` must hold this.
    pub subject_audience: String,
    /// The `[[api_resources]]` the new token may be for.
    pub resources: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_s_trust_domain_is_that_of_its_spiffe_id() {
        let rule = CertificateRule::SanUri(SubjectPattern::new("spiffe://td/ns/*").unwrap());
        assert_eq!(rule.trust_domain(), Some("td"));
        let rule = CertificateRule::SanDns("a.test".into());
        assert_eq!(rule.trust_domain(), None);
    }
}
