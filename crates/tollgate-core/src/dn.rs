//! Distinguished names (RFC 4514): `tls_client_auth_subject_dn` as the
//! file writes it, parsed into RDNs of (attribute type, value), and
//! compared with a certificate's subject as a DN, not as text: attribute
//! types by OID (`CN` and `2.5.4.3` are one), multi-valued RDNs as sets,
//! values after RFC 4518's insignificant-space and case folding.

use std::fmt;

use x509_parser::x509::X509Name;

/// One attribute type and value, the value in its compared form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Attribute {
    /// Dotted OID.
    oid: String,
    value: String,
}

/// A distinguished name, in certificate order (most significant RDN,
/// e.g. `C`, first: RFC 4514 strings list it last).
#[derive(Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    text: String,
    /// Each RDN's attributes, sorted (an RDN is a set).
    rdns: Vec<Vec<Attribute>>,
}

impl fmt::Debug for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistinguishedName({})", self.text)
    }
}

/// The short names RFC 4514 §3 lists, and a few in wide use.
const NAMES: [(&str, &str); 12] = [
    ("CN", "2.5.4.3"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("C", "2.5.4.6"),
    ("STREET", "2.5.4.9"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("SERIALNUMBER", "2.5.4.5"),
    ("EMAILADDRESS", "1.2.840.113549.1.9.1"),
    ("E", "1.2.840.113549.1.9.1"),
];

impl DistinguishedName {
    /// Parses an RFC 4514 string (`CN=ledger.acme.test,OU=Finance,O=Acme,C=US`).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("a distinguished name may not be empty".into());
        }
        let mut rdns = Vec::new();
        for rdn in split_unescaped(text, &[',', ';']) {
            let mut attributes = Vec::new();
            for pair in split_unescaped(&rdn, &['+']) {
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("{pair:?} is not TYPE=value"))?;
                let oid = oid_of(name.trim())?;
                let value = unescape(value.trim_start())?;
                attributes.push(Attribute {
                    oid,
                    value: fold(&value),
                });
            }
            attributes.sort();
            rdns.push(attributes);
        }
        // RFC 4514 §2.1: the string starts with the last RDN of the sequence.
        rdns.reverse();
        Ok(Self {
            text: text.to_owned(),
            rdns,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a certificate's name is this one.
    pub fn matches(&self, name: &X509Name<'_>) -> bool {
        let mut theirs = Vec::new();
        for rdn in name.iter() {
            let mut attributes = Vec::new();
            for atv in rdn.iter() {
                let Ok(value) = atv.as_str() else {
                    // A value we cannot read as text matches nothing.
                    return false;
                };
                attributes.push(Attribute {
                    oid: atv.attr_type().to_id_string(),
                    value: fold(value),
                });
            }
            attributes.sort();
            theirs.push(attributes);
        }
        theirs == self.rdns
    }
}

fn oid_of(name: &str) -> Result<String, String> {
    if let Some((_, oid)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Ok((*oid).to_owned());
    }
    let dotted = name.strip_prefix("OID.").unwrap_or(name);
    let numeric = !dotted.is_empty()
        && dotted.split('.').count() >= 2
        && dotted
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    if numeric {
        Ok(dotted.to_owned())
    } else {
        Err(format!(
            "unknown attribute type {name:?} (use CN, OU, O, L, ST, C, STREET, DC, UID, SERIALNUMBER, emailAddress or a dotted OID)"
        ))
    }
}

/// Splits at the separators that are not escaped with `\`.
fn split_unescaped(text: &str, separators: &[char]) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if separators.contains(&c) {
            parts.push(String::new());
            continue;
        }
        parts.last_mut().expect("never empty").push(c);
    }
    parts
}

/// RFC 4514 §3 escapes: `\` before a special character, or two hex digits
/// of a UTF-8 byte. A `#` value (BER, hex) is refused: write the text.
fn unescape(value: &str) -> Result<String, String> {
    if value.starts_with('#') {
        return Err(format!(
            "{value:?}: hex (#...) values are not accepted; write the value as text"
        ));
    }
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match rest {
            [h, l, tail @ ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                let hex = [*h, *l];
                let hex = std::str::from_utf8(&hex).map_err(|e| e.to_string())?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
                rest = tail;
            }
            [c, tail @ ..] => {
                bytes.push(*c);
                rest = tail;
            }
            [] => return Err(format!("{value:?} ends with a lone backslash")),
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("{value:?} is not UTF-8 once unescaped"))
}

/// RFC 4518 in the small: leading and trailing spaces are insignificant,
/// inner runs of spaces count as one, and case does not matter
/// (`caseIgnoreMatch`, the matching rule of the naming attributes).
fn fold(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rdns(text: &str) -> Vec<Vec<(String, String)>> {
        DistinguishedName::parse(text)
            .unwrap()
            .rdns
            .into_iter()
            .map(|r| r.into_iter().map(|a| (a.oid, a.value)).collect())
            .collect()
    }

    #[test]
    fn rfc_4514_strings_are_parsed_into_rdns_in_certificate_order() {
        assert_eq!(
            rdns("CN=Ledger.Acme.test, OU=Finance,O=Acme,C=US"),
            rdns("cn=ledger.acme.test,ou=finance,o=ACME,c=us")
        );
        let parsed = rdns("CN=a,O=b");
        assert_eq!(parsed[0], [("2.5.4.10".to_owned(), "b".to_owned())]);
        assert_eq!(parsed[1], [("2.5.4.3".to_owned(), "a".to_owned())]);
        assert_eq!(rdns("2.5.4.3=x"), rdns("CN=x"));
        assert_eq!(rdns("OU=a+CN=b"), rdns("CN=b+OU=a"), "an RDN is a set");
        assert_eq!(rdns(r"O=Acme\, Inc."), rdns(r"O=Acme\2C Inc."));
        assert_eq!(rdns(r"O=Acme\, Inc.")[0][0].1, "acme, inc.");
        assert_eq!(rdns("CN=a   b ")[0][0].1, "a b");
        assert_ne!(rdns("CN=a,O=b"), rdns("O=b,CN=a"), "order matters");
    }

    #[test]
    fn bad_distinguished_names_are_refused_with_the_reason() {
        for bad in ["", "CN", "XX=1", "CN=#0403", r"CN=a\"] {
            assert!(DistinguishedName::parse(bad).is_err(), "{bad}");
        }
    }
}
