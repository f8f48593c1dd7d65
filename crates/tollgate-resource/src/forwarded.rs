//! A client certificate forwarded by the proxy that ended TLS: Envoy's
//! `X-Forwarded-Client-Cert` (XFCC) or NGINX's `$ssl_client_escaped_cert`
//! (a URL-encoded PEM). A header value is read only when it parses
//! completely: a value that is almost right is a value a client shaped,
//! and reading part of it is how a client's own `Cert=` comes to be taken
//! for the proxy's (an unbalanced quote swallowing the comma the proxy put
//! before its element). Whether the request came from a proxy at all, and
//! that the header came as one line, is the caller's to check.

use std::fmt;

/// Why a forwarded certificate header was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedError {
    /// The value breaks the header's grammar (an unbalanced quote, a bad
    /// escape, a stray character after a quoted value, an empty element).
    Malformed,
    /// The element names its certificate twice (two `Cert` or `Chain`).
    Ambiguous,
    /// The nearest proxy's element carries no certificate.
    NoCertificate,
    /// The certificate is not URL-encoded PEM of certificates alone.
    NotPem,
}

impl fmt::Display for ForwardedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the header does not parse",
            Self::Ambiguous => "the element names its certificate twice",
            Self::NoCertificate => "the nearest proxy's element carries no certificate",
            Self::NotPem => "the certificate is not URL-encoded PEM",
        })
    }
}

impl std::error::Error for ForwardedError {}

/// The PEM chain (leaf first) of an XFCC value: that of its last element,
/// the one the nearest proxy added about the connection it received (the
/// elements before it are what the client or farther proxies said). Its
/// `Chain` when it has one, else its `Cert`.
///
/// The grammar is Envoy's: elements separated by `,`, each a list of
/// `key=value` separated by `;`; a value holding `,`, `;`, `=` or `"` is
/// double-quoted, with `\"` for a quote inside. Nothing else is accepted.
pub fn xfcc_pem(value: &str) -> Result<String, ForwardedError> {
    let elements = parse(value)?;
    let last = elements.last().ok_or(ForwardedError::Malformed)?;
    let mut cert = None;
    let mut chain = None;
    for (key, value) in last {
        let slot = if key.eq_ignore_ascii_case("cert") {
            &mut cert
        } else if key.eq_ignore_ascii_case("chain") {
            &mut chain
        } else {
            continue;
        };
        if slot.replace(value).is_some() {
            return Err(ForwardedError::Ambiguous);
        }
    }
    escaped_pem(chain.or(cert).ok_or(ForwardedError::NoCertificate)?)
}

/// The PEM of a URL-encoded PEM value (NGINX's `$ssl_client_escaped_cert`,
/// XFCC's `Cert` and `Chain`): certificates and nothing else.
pub fn escaped_pem(value: &str) -> Result<String, ForwardedError> {
    // A `%` not followed by two hex digits stays as it is, and is then
    // refused as no character of PEM.
    let pem = percent_encoding::percent_decode_str(value.trim())
        .decode_utf8()
        .map_err(|_| ForwardedError::NotPem)?;
    certificates_only(&pem)
        .then(|| pem.into_owned())
        .ok_or(ForwardedError::NotPem)
}

/// One XFCC element: its pairs, keys as written.
type Element = Vec<(String, String)>;

/// The elements of an XFCC value, or `Malformed` at the first character
/// out of place.
fn parse(value: &str) -> Result<Vec<Element>, ForwardedError> {
    let mut elements = Vec::new();
    let mut chars = value.chars().peekable();
    let mut element: Element = Vec::new();
    loop {
        skip_space(&mut chars);
        let key: String = std::iter::from_fn(|| {
            chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        })
        .collect();
        if key.is_empty() || chars.next() != Some('=') {
            return Err(ForwardedError::Malformed);
        }
        let value = match chars.peek() {
            Some('"') => {
                chars.next();
                quoted(&mut chars)?
            }
            _ => std::iter::from_fn(|| chars.next_if(|c| !matches!(c, ',' | ';' | '=' | '"')))
                .collect::<String>()
                .trim_end()
                .to_owned(),
        };
        element.push((key, value));
        skip_space(&mut chars);
        match chars.next() {
            Some(';') => {}
            Some(',') => elements.push(std::mem::take(&mut element)),
            None => {
                elements.push(element);
                return Ok(elements);
            }
            Some(_) => return Err(ForwardedError::Malformed),
        }
    }
}

/// The rest of a quoted value, its opening quote read: up to the closing
/// quote, `\"` and `\\` unescaped (Envoy escapes quotes alone, so any other
/// backslash is itself). No closing quote: `Malformed`.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, ForwardedError> {
    let mut out = String::new();
    loop {
        match chars.next().ok_or(ForwardedError::Malformed)? {
            '"' => return Ok(out),
            '\\' => match chars.next_if(|c| matches!(c, '"' | '\\')) {
                Some(escaped) => out.push(escaped),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
}

fn skip_space(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
}

/// Whether `pem` is one or more CERTIFICATE blocks and white space: text
/// around or between them (another block, a comment) is refused, since a
/// proxy writes certificates alone.
fn certificates_only(pem: &str) -> bool {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut rest = pem.trim();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let Some(body) = rest.strip_prefix(BEGIN) else {
            return false;
        };
        let Some((inside, after)) = body.split_once(END) else {
            return false;
        };
        let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
        if !inside.chars().all(|c| base64(c) || c.is_ascii_whitespace()) {
            return false;
        }
        rest = after.trim_start();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn encoded(pem: &str) -> String {
        pem.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn the_last_element_gives_its_chain_or_else_its_cert() {
        let one = encoded(PEM);
        let two = encoded(&PEM.replace("MIIB", "MIIC"));
        let v = format!(
            r#"By=spiffe://a;Cert="{one}";URI=spiffe://x,By=spiffe://b;Hash=ab;Cert="{two}";Subject="CN=a,O=\"b;c\"";DNS=a;DNS=b"#
        );
        assert_eq!(xfcc_pem(&v).unwrap(), PEM.replace("MIIB", "MIIC"));
        let v = format!(r#"Cert="{one}";Chain="{two}""#);
        assert_eq!(xfcc_pem(&v).unwrap(), PEM.replace("MIIB", "MIIC"));
        let v = format!("By=x;Cert={one}");
        assert_eq!(xfcc_pem(&v).unwrap(), PEM);
        assert_eq!(xfcc_pem("By=x;URI=y"), Err(ForwardedError::NoCertificate));
    }

    #[test]
    fn a_client_element_that_swallows_the_proxy_s_comma_is_refused() {
        let bank = encoded(PEM);
        let proxy = encoded(&PEM.replace("MIIB", "MIIC"));
        // The red team's two shapes: an unbalanced quote, and an escaped
        // closing quote, each before the element the proxy appends.
        for client in [
            format!(r#"Cert="{bank}";x=""#),
            format!(r#"Cert="{bank}\""#),
            format!(r#"Cert="{bank}";x="\""#),
        ] {
            let value = format!(r#"{client},By=spiffe://proxy;Hash=ab;Cert="{proxy}";URI=a"#);
            assert_eq!(xfcc_pem(&value), Err(ForwardedError::Malformed), "{value}");
            let value = format!("{client},By=spiffe://proxy;Hash=ab;Cert={proxy}");
            assert_eq!(xfcc_pem(&value), Err(ForwardedError::Malformed), "{value}");
        }
    }

    #[test]
    fn every_break_of_the_grammar_is_malformed() {
        for value in [
            "",
            ",",
            "Cert=a,,Cert=b",
            "Cert",
            "=a",
            "Cert=\"a",
            "Cert=\"a\"b",
            "Cert=a\"b",
            "Cert=a=b",
            "Cert=\"a\";",
            "Cert=a,",
            "Ce rt=a",
        ] {
            assert_eq!(xfcc_pem(value), Err(ForwardedError::Malformed), "{value:?}");
        }
        let two = format!("Cert={0};Cert={0}", encoded(PEM));
        assert_eq!(xfcc_pem(&two), Err(ForwardedError::Ambiguous));
    }

    #[test]
    fn an_escaped_pem_holds_certificates_and_nothing_else() {
        assert_eq!(escaped_pem(&encoded(PEM)).unwrap(), PEM);
        let chain = format!("{PEM}\n{PEM}");
        assert_eq!(escaped_pem(&encoded(&chain)).unwrap(), chain);
        for bad in [
            String::new(),
            "%zz".into(),
            "%C3%28".into(),
            encoded(&format!("junk{PEM}")),
            encoded(&format!(
                "{PEM}-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----"
            )),
            encoded("-----BEGIN CERTIFICATE-----\nMIIB"),
            encoded("-----BEGIN CERTIFICATE-----\nMI;IB\n-----END CERTIFICATE-----"),
        ] {
            assert_eq!(escaped_pem(&bad), Err(ForwardedError::NotPem), "{bad:?}");
        }
    }

    /// The fuzz target's property, on 20,000 values made of the grammar's
    /// own characters (a fixed seed, so a failure repeats): whatever a
    /// client writes before the proxy's element, the proxy's certificate
    /// is read or nothing is.
    #[test]
    fn no_client_text_before_the_proxy_s_element_yields_another_certificate() {
        let proxy_pem = PEM.replace("MIIB", "PROXY");
        let proxy = format!(
            "By=spiffe://proxy;Hash=ab;Cert=\"{}\";URI=a",
            encoded(&proxy_pem)
        );
        let client = encoded(PEM);
        let (quoted, bare) = (format!("Cert=\"{client}\""), format!("Cert={client}"));
        // Whole elements and the characters that break them: the red
        // team's shapes are a few pieces long.
        let pieces = [
            quoted.as_str(),
            bare.as_str(),
            "x=\"",
            "\\\"",
            "\"",
            "\\",
            ";",
            ",",
            "=",
            "By=a",
            " ",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = next() % 8;
            let value: String = (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            let header = format!("{value},{proxy}");
            if let Ok(pem) = xfcc_pem(&header) {
                assert_eq!(pem, proxy_pem, "{header}");
            }
        }
    }
}
