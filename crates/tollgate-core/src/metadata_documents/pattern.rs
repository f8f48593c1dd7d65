//! `[client_metadata_documents] allow`: which URLs may name a client.
//! A pattern's scheme, host and port are literal; in its path, `*`
//! matches a run of characters within one segment (never a `/`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

/// One `allow` pattern, e.g. `https://app.example.com/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPattern {
    text: String,
    scheme: String,
    host: Host<String>,
    port: Option<u16>,
    /// The path's segments (after the leading `/`), each literal but for
    /// its `*`s.
    segments: Vec<String>,
}

impl UrlPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The address of an IP-literal host: a pattern that names an address
    /// names it literally, and only then may documents come from a
    /// loopback or private address.
    pub fn literal_address(&self) -> Option<IpAddr> {
        match self.host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    /// Whether `url` (a client id, already checked to be in normal form)
    /// is one of the URLs this pattern allows.
    pub fn matches(&self, url: &Url) -> bool {
        if url.scheme() != self.scheme
            || url.port_or_known_default() != self.port
            || url.host().map(|h| h.to_owned()) != Some(self.host.clone())
            || url.query().is_some()
        {
            return false;
        }
        let Some(path) = url.path().strip_prefix('/') else {
            return false;
        };
        let segments: Vec<&str> = path.split('/').collect();
        segments.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&segments)
                .all(|(pattern, segment)| segment_matches(pattern, segment))
    }
}

/// `*` matches any run of characters (none included); everything else is
/// literal. Segments are short, so the plain backtracking walk is fine:
/// at most a few hundred steps for the longest client id.
fn segment_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j) = (0, 0);
    // The last `*` seen and where in `text` it was tried from.
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == t[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&b| b == b'*')
}

/// A loopback host: the only hosts a pattern may name over http.
pub(crate) fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
    }
}

impl FromStr for UrlPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim() == "*" {
            return Err("`*` alone would let any URL name a client; name the host".into());
        }
        let url = Url::parse(text)
            .map_err(|e| format!("{text:?} is not a URL pattern with a scheme and a host ({e})"))?;
        let host = match url.host() {
            Some(Host::Domain("")) | None => {
                return Err(format!("{text:?} has no host; a pattern names its host"));
            }
            Some(host) => host,
        };
        if host.to_string().contains('*') {
            return Err(format!(
                "{text:?}: the host of a pattern is literal; `*` may stand only in the path"
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => {
                return Err(format!(
                    "{text:?}: documents are fetched over https; http only from a loopback host"
                ));
            }
            other => return Err(format!("{text:?}: the scheme {other} is not https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{text:?}: a pattern may not hold a user or password"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{text:?}: a pattern may not hold a query or fragment"
            ));
        }
        // The pattern is compared with client ids in normal form, so it
        // must be in normal form itself (lower-case host, no default port,
        // no dot segments): else it would silently match nothing.
        if url.as_str() != text {
            return Err(format!(
                "{text:?} is not in normal form; write it as {:?}",
                url.as_str()
            ));
        }
        if url.path() == "/" {
            return Err(format!(
                "{text:?} has no path; a client id URL has one (e.g. \"{}client.json\")",
                url.as_str()
            ));
        }
        let segments = url.path()[1..].split('/').map(str::to_owned).collect();
        Ok(Self {
            text: text.to_owned(),
            scheme: url.scheme().to_owned(),
            host: host.to_owned(),
            port: url.port_or_known_default(),
            segments,
        })
    }
}

impl fmt::Display for UrlPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(s: &str) -> UrlPattern {
        s.parse().unwrap()
    }

    fn allows(p: &str, url: &str) -> bool {
        pattern(p).matches(&Url::parse(url).unwrap())
    }

    #[test]
    fn a_star_matches_within_one_path_segment_only() {
        let p = "https://app.example.com/*";
        assert!(allows(p, "https://app.example.com/client.json"));
        assert!(!allows(p, "https://app.example.com/a/client.json"));
        let p = "https://app.example.com/clients/*.json";
        assert!(allows(p, "https://app.example.com/clients/ide.json"));
        assert!(allows(p, "https://app.example.com/clients/.json"));
        assert!(!allows(p, "https://app.example.com/clients/ide.txt"));
        assert!(!allows(p, "https://app.example.com/clients/a/b.json"));
        assert!(!allows(p, "https://app.example.com/other/ide.json"));
        let p = "https://app.example.com/*/metadata";
        assert!(allows(p, "https://app.example.com/ide/metadata"));
        assert!(!allows(p, "https://app.example.com/a/b/metadata"));
        assert!(allows(
            "https://app.example.com/a*b*c",
            "https://app.example.com/aXXbYYbZc"
        ));
        assert!(!allows(
            "https://app.example.com/a*b*c",
            "https://app.example.com/aXXcYYb"
        ));
    }

    #[test]
    fn scheme_host_and_port_are_literal() {
        let p = "https://app.example.com/*";
        assert!(!allows(p, "http://app.example.com/c"));
        assert!(!allows(p, "https://evil.app.example.com/c"));
        assert!(!allows(p, "https://app.example.com.evil.test/c"));
        assert!(!allows(p, "https://app.example.com:8443/c"));
        assert!(allows(p, "https://app.example.com:443/c"));
        assert!(allows(
            "https://app.example.com:8443/*",
            "https://app.example.com:8443/c"
        ));
        assert!(!allows(p, "https://app.example.com/c?x=1"));
    }

    #[test]
    fn a_star_alone_a_pattern_without_a_host_and_a_star_in_the_host_are_refused() {
        for bad in [
            "*",
            " * ",
            "/*",
            "https:///*",
            "https://*/x",
            "https://*.example.com/x",
            "app.example.com/*",
            "ftp://app.example.com/*",
            "http://app.example.com/*",
            "https://user@app.example.com/*",
            "https://app.example.com/*?q",
            "https://app.example.com/*#f",
            "https://App.Example.com/*",
            "https://app.example.com/",
            "https://app.example.com",
        ] {
            assert!(bad.parse::<UrlPattern>().is_err(), "{bad} was accepted");
        }
        assert!("*".parse::<UrlPattern>().unwrap_err().contains("alone"));
        assert!(
            "/*".parse::<UrlPattern>()
                .unwrap_err()
                .contains("scheme and a host")
        );
    }

    #[test]
    fn http_only_for_a_loopback_host_and_only_an_ip_literal_names_an_address() {
        assert!("http://127.0.0.1:8080/*".parse::<UrlPattern>().is_ok());
        assert!("http://[::1]:8080/*".parse::<UrlPattern>().is_ok());
        assert!("http://localhost:8080/*".parse::<UrlPattern>().is_ok());
        assert_eq!(
            pattern("http://127.0.0.1:8080/*").literal_address(),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(pattern("http://localhost:8080/*").literal_address(), None);
        assert_eq!(
            pattern("https://10.0.0.5/*").literal_address(),
            Some("10.0.0.5".parse().unwrap())
        );
    }
}
