//! Which client certificate a request comes with: the one of its TLS
//! connection, or, from a declared proxy only, the one in the proxy's
//! header (Envoy's `X-Forwarded-Client-Cert`, NGINX's escaped PEM). A
//! header from any other address is ignored; from a proxy, only the
//! header counts (the connection's certificate is the proxy's own).

use std::net::IpAddr;

use crate::config::certificates::{CertificateSettings, ProxyHeader};
use tollgate_core::ClientCertificate;

/// The certificate the TLS handshake of this request's connection
/// presented; put in the request's extensions by the connection loop.
#[derive(Debug, Clone)]
pub(crate) struct PeerCertificate(pub ClientCertificate);

/// The client certificate of `req`, if it has one.
pub(crate) fn of(
    req: &poem::Request,
    settings: &CertificateSettings,
    address: Option<IpAddr>,
) -> Option<ClientCertificate> {
    match (address, &settings.header) {
        (Some(ip), Some(header)) if settings.is_proxy(ip) => {
            let value = req.headers().get(header.name())?.to_str().ok()?;
            let pem = match header {
                ProxyHeader::Xfcc => xfcc_cert(value)?,
                ProxyHeader::EscapedPem(_) => unescape(value)?,
            };
            ClientCertificate::from_pem(pem.as_bytes())
        }
        _ => req
            .extensions()
            .get::<PeerCertificate>()
            .map(|p| p.0.clone()),
    }
}

fn unescape(value: &str) -> Option<String> {
    percent_encoding::percent_decode_str(value.trim())
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The PEM of the client in an XFCC value: the last element (the one the
/// nearest proxy added about the connection it received), its `Chain`
/// (leaf first) or else its `Cert`, URL-decoded.
fn xfcc_cert(value: &str) -> Option<String> {
    let element = split_outside_quotes(value, ',').pop()?;
    let mut cert = None;
    let mut chain = None;
    for pair in split_outside_quotes(&element, ';') {
        let Some((key, v)) = pair.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .map_or_else(|| v.to_owned(), |q| q.replace("\\\"", "\""));
        match key.trim().to_ascii_lowercase().as_str() {
            "cert" => cert = Some(v),
            "chain" => chain = Some(v),
            _ => {}
        }
    }
    unescape(&chain.or(cert)?)
}

/// Splits at `separator` where it is not inside double quotes.
fn split_outside_quotes(value: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("never empty").push(c);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_xfcc_element_gives_its_chain_or_its_cert() {
        let v = r#"By=spiffe://a;Cert="%2D%2D%2Done";URI=spiffe://x,By=spiffe://b;Hash=ab;Cert="%2D%2D%2Dtwo%3B%2C";Subject="CN=a,O=\"b;c\"""#;
        assert_eq!(xfcc_cert(v).as_deref(), Some("---two;,"));
        let v = r#"Cert="c";Chain="%41%42""#;
        assert_eq!(xfcc_cert(v).as_deref(), Some("AB"));
        assert_eq!(xfcc_cert("By=x;URI=y"), None);
    }
}
