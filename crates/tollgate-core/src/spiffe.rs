//! SPIFFE IDs as the SPIFFE-ID specification defines them (§2): the
//! scheme `spiffe`, a trust domain of lowercase letters, digits, `.`, `-`
//! and `_`, and a path of segments of letters, digits, `.`, `-` and `_`,
//! none empty, `.` or `..`. No query, fragment, port, user info or
//! percent-encoding: a URI SAN that is anything else is not a SPIFFE ID,
//! however it would match a pattern as text (`…/payments/../../admin`).

/// The SPIFFE-ID spec's limit on a whole ID, in bytes.
const MAX_ID_BYTES: usize = 2048;
/// The spec's limit on a trust domain name.
const MAX_DOMAIN_BYTES: usize = 255;

/// A valid SPIFFE ID, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiffeId<'a> {
    pub trust_domain: &'a str,
    /// Empty, or `/` and segments.
    pub path: &'a str,
}

/// `uri` as a SPIFFE ID, if it is one.
pub fn parse(uri: &str) -> Option<SpiffeId<'_>> {
    parse_with(uri, |_| false)
}

/// A `spiffe://` rule of the file: a SPIFFE ID whose path segments may
/// hold `*` (each `*` matching within its segment).
pub fn parse_pattern(pattern: &str) -> Option<SpiffeId<'_>> {
    parse_with(pattern, |c| c == b'*')
}

fn parse_with(uri: &str, extra: impl Fn(u8) -> bool) -> Option<SpiffeId<'_>> {
    if uri.len() > MAX_ID_BYTES {
        return None;
    }
    let rest = uri.strip_prefix("spiffe://")?;
    let (trust_domain, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let domain_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || b".-_".contains(&c);
    if trust_domain.is_empty()
        || trust_domain.len() > MAX_DOMAIN_BYTES
        || !trust_domain.bytes().all(domain_char)
    {
        return None;
    }
    if !path.is_empty() {
        let path_char = |c: u8| c.is_ascii_alphanumeric() || b".-_".contains(&c) || extra(c);
        let valid = path[1..].split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(path_char)
        });
        if !valid {
            return None;
        }
    }
    Some(SpiffeId { trust_domain, path })
}

/// `example.org` of `spiffe://example.org/path`: the authority of a
/// `spiffe://` URI, checked as a trust domain name, whatever its path.
pub fn trust_domain(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("spiffe://")?;
    let domain = rest.split('/').next().unwrap_or(rest);
    parse(&format!("spiffe://{domain}"))?;
    Some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_the_spec_allows() {
        let id = parse("spiffe://example.org/ns/payments/sa/api").unwrap();
        assert_eq!(id.trust_domain, "example.org");
        assert_eq!(id.path, "/ns/payments/sa/api");
        assert_eq!(parse("spiffe://example.org").unwrap().path, "");
        assert!(parse("spiffe://a-b_c.1/A.b-c_9/x").is_some());
    }

    #[test]
    fn uris_that_are_not_spiffe_ids() {
        for uri in [
            "spiffe://example.org/ns/payments/../../admin/sa/api",
            "spiffe://example.org/ns/./payments",
            "spiffe://example.org/ns//payments",
            "spiffe://example.org/ns/payments/",
            "spiffe://example.org/",
            "spiffe://example.org/ns/payments?x=1",
            "spiffe://example.org/ns/payments#f",
            "spiffe://example.org:443/ns/payments",
            "spiffe://user@example.org/ns/payments",
            "spiffe://example.org/ns/pay%2Fments",
            "spiffe://Example.org/ns",
            "spiffe:///ns",
            "SPIFFE://example.org/ns",
            "https://example.org/ns",
            "spiffe://example.org/ns/*",
        ] {
            assert_eq!(parse(uri), None, "{uri}");
        }
        let long = format!("spiffe://example.org/{}", "a".repeat(MAX_ID_BYTES));
        assert_eq!(parse(&long), None);
    }

    #[test]
    fn patterns_may_hold_a_star_within_segments() {
        assert!(parse_pattern("spiffe://example.org/ns/*/sa/api").is_some());
        assert!(parse_pattern("spiffe://example.org/ns/team-*").is_some());
        assert_eq!(parse_pattern("spiffe://example.org/ns/../*"), None);
        assert_eq!(parse_pattern("spiffe://*.org/ns"), None);
    }

    #[test]
    fn the_trust_domain_is_the_authority_of_a_spiffe_id() {
        assert_eq!(
            trust_domain("spiffe://example.org/ns/a/sa/b"),
            Some("example.org")
        );
        assert_eq!(trust_domain("spiffe://example.org"), Some("example.org"));
        assert_eq!(trust_domain("spiffe:///path"), None);
        assert_eq!(trust_domain("https://example.org/x"), None);
        assert_eq!(trust_domain("spiffe://ex:1/x"), None);
    }
}
