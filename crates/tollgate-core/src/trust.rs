//! Certificates a client presents and the CAs they must chain to: the
//! company CA of `[server.tls] client_ca` and one X.509 bundle per SPIFFE
//! trust domain. Chains are verified by rustls-webpki (RFC 5280 path
//! building, validity at `now`, the clientAuth purpose when a certificate
//! names purposes); this file only says which anchors count.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};

/// The certificate chain a client presented (TLS, or a header from a
/// declared proxy), leaf first, DER.
#[derive(Clone)]
pub struct ClientCertificate {
    chain: Arc<[CertificateDer<'static>]>,
    /// RFC 8705 §3.1: base64url SHA-256 of the leaf's DER.
    thumbprint: Arc<str>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientCertificate(x5t#S256={})", self.thumbprint)
    }
}

impl ClientCertificate {
    /// `None` for an empty chain.
    pub fn new(chain: Vec<CertificateDer<'static>>) -> Option<Self> {
        let leaf = chain.first()?;
        let thumbprint = B64
            .encode(tollgate_jose::digest::sha256(leaf.as_ref()))
            .into();
        Some(Self {
            chain: chain.into(),
            thumbprint,
        })
    }

    /// A PEM chain, leaf first (a proxy's header).
    pub fn from_pem(pem: &[u8]) -> Option<Self> {
        let chain: Vec<_> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .ok()?;
        Self::new(chain)
    }

    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// The certificates after the leaf (intermediates, as sent).
    pub fn intermediates(&self) -> &[CertificateDer<'static>] {
        &self.chain[1..]
    }

    /// The `x5t#S256` of the leaf.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }
}

/// The CA certificates of one file (a client CA, a trust domain's bundle).
#[derive(Debug, Clone)]
pub struct AnchorSet {
    anchors: Vec<TrustAnchor<'static>>,
}

impl AnchorSet {
    /// The CA certificates of a PEM file; certificates that are not CAs
    /// (basicConstraints cA) are skipped, and a file with none is an error.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let mut anchors = Vec::new();
        let mut certificates = 0;
        for der in CertificateDer::pem_slice_iter(pem) {
            let der = der.map_err(|e| format!("not PEM ({e})"))?;
            certificates += 1;
            let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref())
                .map_err(|e| format!("certificate {certificates} does not parse ({e})"))?;
            if !parsed.is_ca() {
                continue;
            }
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| format!("certificate {certificates} is not a usable CA ({e})"))?;
            anchors.push(anchor.to_owned());
        }
        if anchors.is_empty() {
            return Err(match certificates {
                0 => "holds no PEM CERTIFICATE".into(),
                n => format!(
                    "holds no CA certificate ({n} certificates, none with basicConstraints cA=TRUE)"
                ),
            });
        }
        Ok(Self { anchors })
    }

    /// Whether `certificate` chains to one of these anchors at `now` (Unix
    /// seconds), for client authentication.
    pub fn verifies(&self, certificate: &ClientCertificate, now: i64) -> Result<(), String> {
        let leaf =
            webpki::EndEntityCert::try_from(certificate.leaf()).map_err(|e| e.to_string())?;
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(now).unwrap_or(0),
        ));
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            certificate.intermediates(),
            now,
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

/// Every anchor in force: the file's client CA and trust domains, as last
/// read (they are re-read when the files change).
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    pub client_ca: Option<AnchorSet>,
    /// By trust domain name (`example.org`).
    pub domains: HashMap<String, AnchorSet>,
}
