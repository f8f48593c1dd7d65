//! Client certificates (RFC 8705): `[server.tls] client_ca`, the
//! `[[trust_domains]]` bundles, and the proxies whose header carries a
//! client's certificate. The CA files are read at validation (a file
//! without a CA certificate is a problem with its line) and re-read by the
//! server when they change, like the TLS certificate.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::problems::Problems;
use super::raw::RawConfig;
use tollgate_core::{AnchorSet, TrustAnchors};

/// The one header form Envoy uses; any other header name carries a
/// URL-escaped PEM (NGINX's `$ssl_client_escaped_cert`).
pub(crate) const XFCC: &str = "x-forwarded-client-cert";

/// How a trusted proxy passes the client certificate on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyHeader {
    /// Envoy's `X-Forwarded-Client-Cert`: its `Cert="<url-encoded PEM>"`.
    Xfcc,
    /// A header (lower case) holding a URL-escaped PEM.
    EscapedPem(String),
}

impl ProxyHeader {
    pub fn name(&self) -> &str {
        match self {
            Self::Xfcc => XFCC,
            Self::EscapedPem(name) => name,
        }
    }
}

/// The client-certificate settings of a file.
#[derive(Debug, Clone, Default)]
pub struct CertificateSettings {
    pub client_ca: Option<PathBuf>,
    /// Trust domain name and bundle file.
    pub domains: Vec<(String, PathBuf)>,
    pub proxies: Vec<ipnet::IpNet>,
    pub header: Option<ProxyHeader>,
    /// Some client authenticates with a self-signed certificate.
    pub self_signed: bool,
    /// The CAs as read at validation.
    pub anchors: Arc<AnchorFiles>,
}

/// Trust anchors and the digest of the files they were read from.
#[derive(Debug, Default)]
pub struct AnchorFiles {
    pub digest: [u8; 32],
    pub trust: Arc<TrustAnchors>,
}

impl CertificateSettings {
    /// Whether certificates can authenticate anyone here: the TLS
    /// listener asks for one only then (a browser would prompt for one).
    pub fn offered(&self) -> bool {
        self.client_ca.is_some() || !self.domains.is_empty() || self.self_signed
    }

    /// Whether `address` is a declared proxy.
    pub fn is_proxy(&self, address: IpAddr) -> bool {
        self.header.is_some() && self.proxies.iter().any(|p| p.contains(&address))
    }

    /// Reads and parses every CA file; the first problem as (its key in
    /// the file, the message).
    pub fn read(&self) -> Result<AnchorFiles, (String, String)> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
        };
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut trust = TrustAnchors::default();
        if let Some(path) = &self.client_ca {
            let key = "server.tls.client_ca".to_owned();
            let pem = read(path).map_err(|e| (key.clone(), e))?;
            let set =
                AnchorSet::from_pem(&pem).map_err(|e| (key, format!("{}: {e}", path.display())))?;
            trust.client_ca = Some(set);
            parts.push(pem);
        }
        for (i, (name, path)) in self.domains.iter().enumerate() {
            let key = format!("trust_domains[{i}].bundle_file");
            let pem = read(path).map_err(|e| (key.clone(), e))?;
            let set =
                AnchorSet::from_pem(&pem).map_err(|e| (key, format!("{}: {e}", path.display())))?;
            trust.domains.insert(name.clone(), set);
            parts.push(name.as_bytes().to_vec());
            parts.push(pem);
        }
        Ok(AnchorFiles {
            digest: tollgate_jose::digest::sha256_parts(parts.iter().map(Vec::as_slice)),
            trust: Arc::new(trust),
        })
    }
}

pub(super) fn build(
    raw: &RawConfig,
    base: &Path,
    problems: &mut Problems<'_>,
) -> CertificateSettings {
    let tls = raw.server.tls.clone().unwrap_or_default();
    let mut settings = CertificateSettings {
        client_ca: tls.client_ca.as_ref().map(|f| base.join(f)),
        ..Default::default()
    };
    for (i, d) in raw.trust_domains.iter().enumerate() {
        let at = |k: &str| format!("trust_domains[{i}].{k}");
        let valid = !d.name.is_empty()
            && d.name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
            });
        if !valid {
            problems.add(
                at("name"),
                format!(
                    "{:?} is not a SPIFFE trust domain name (lower-case letters, digits, '.', '-', '_')",
                    d.name
                ),
            );
            continue;
        }
        if settings.domains.iter().any(|(n, _)| *n == d.name) {
            problems.add(
                at("name"),
                format!("trust domain {:?} is declared twice", d.name),
            );
            continue;
        }
        match &d.bundle_file {
            Some(f) => settings.domains.push((d.name.clone(), base.join(f))),
            None => problems.add(
                at("name"),
                format!(
                    "trust domain {:?} has no bundle_file: the CA certificates its SVIDs chain to",
                    d.name
                ),
            ),
        }
    }
    for (i, p) in tls.trusted_proxies.iter().enumerate() {
        let parsed = p
            .parse::<ipnet::IpNet>()
            .or_else(|_| p.parse::<IpAddr>().map(ipnet::IpNet::from));
        match parsed {
            Ok(net) => settings.proxies.push(net),
            Err(_) => problems.add(
                format!("server.tls.trusted_proxies[{i}]"),
                format!("{p:?} is not an IP address or CIDR range, e.g. \"10.0.0.0/8\""),
            ),
        }
    }
    settings.header = tls
        .client_cert_header
        .as_deref()
        .map(|h| match h.to_ascii_lowercase() {
            h if h == XFCC => ProxyHeader::Xfcc,
            h => ProxyHeader::EscapedPem(h),
        });
    // RFC 9110 §5.1: a field name is a token.
    let token = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if let Some(h) = &tls.client_cert_header
        && !token(h)
    {
        problems.add(
            "server.tls.client_cert_header",
            format!("{h:?} is not a header name"),
        );
    }
    match (settings.header.is_some(), tls.trusted_proxies.is_empty()) {
        (true, true) => problems.add(
            "server.tls.client_cert_header",
            "client_cert_header needs trusted_proxies: the addresses it is believed from",
        ),
        (false, false) => problems.add(
            "server.tls.trusted_proxies",
            "trusted_proxies needs client_cert_header: the header they put the certificate in",
        ),
        _ => {}
    }
    match settings.read() {
        Ok(anchors) => settings.anchors = Arc::new(anchors),
        Err((at, message)) => problems.add(at, message),
    }
    settings
}

/// Certificate rules no certificate can satisfy: a SPIFFE ID of a trust
/// domain the file does not declare, a DN or DNS rule without `client_ca`.
pub(super) fn warn(config: &super::Config, raw: &RawConfig, problems: &mut Problems<'_>) {
    use tollgate_core::CertificateRule;
    let settings = &config.certificates;
    for (i, c) in raw.clients.iter().enumerate() {
        let Some(rule) = config
            .registry
            .client(&c.client_id)
            .and_then(|c| c.certificate.as_ref())
        else {
            continue;
        };
        let (key, missing) = match (rule, rule.trust_domain()) {
            (_, Some(domain)) if !settings.domains.iter().any(|(n, _)| n == domain) => (
                "tls_client_auth_san_uri",
                format!(
                    "trust domain {domain:?} has no [[trust_domains]] entry: no certificate can match"
                ),
            ),
            (CertificateRule::SanUri(_), Some(_)) => continue,
            (_, None) if settings.client_ca.is_none() => (
                match rule {
                    CertificateRule::SubjectDn(_) => "tls_client_auth_subject_dn",
                    CertificateRule::SanDns(_) => "tls_client_auth_san_dns",
                    CertificateRule::SanUri(_) => "tls_client_auth_san_uri",
                },
                "[server.tls] has no client_ca: no certificate can match".to_owned(),
            ),
            _ => continue,
        };
        problems.add(format!("clients[{i}].{key}"), missing);
    }
}
