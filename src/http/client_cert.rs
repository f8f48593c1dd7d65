//! Which client certificate a request comes with: the one of its TLS
//! connection, or, from a declared proxy only, the one in the proxy's
//! header (Envoy's `X-Forwarded-Client-Cert`, NGINX's escaped PEM). A
//! header from any other address is ignored; from a proxy, only the
//! header counts (the connection's certificate is the proxy's own).

use std::net::IpAddr;

use crate::config::certificates::{CertificateSettings, ProxyHeader};
use tollgate_core::CertificateChain;
use tollgate_resource::forwarded;

/// The certificate the TLS handshake of this request's connection
/// presented; put in the request's extensions by the connection loop.
#[derive(Debug, Clone)]
pub(crate) struct PeerCertificate(pub CertificateChain);

/// The client certificate of `req`, if it has one. From a proxy, the
/// header must come as one line and parse completely
/// ([`tollgate_resource::forwarded`]); anything else is no certificate
/// (the request then fails as any other without credentials).
pub(crate) fn of(
    req: &poem::Request,
    settings: &CertificateSettings,
    address: Option<IpAddr>,
) -> Option<CertificateChain> {
    match (address, &settings.header) {
        (Some(ip), Some(header)) if settings.is_proxy(ip) => {
            let mut lines = req.headers().get_all(header.name()).iter();
            let (Some(value), None) = (lines.next(), lines.next()) else {
                // Two lines: one of them is not the proxy's.
                return None;
            };
            let value = value.to_str().ok()?;
            let pem = match header {
                ProxyHeader::Xfcc => forwarded::xfcc_pem(value),
                ProxyHeader::EscapedPem(_) => forwarded::escaped_pem(value),
            };
            CertificateChain::from_pem(pem.ok()?.as_bytes())
        }
        _ => req
            .extensions()
            .get::<PeerCertificate>()
            .map(|p| p.0.clone()),
    }
}
