//! Certificates a client presents and the CAs they must chain to: the
//! company CA of `[server.tls] client_ca` and one X.509 bundle per SPIFFE
//! trust domain. Chains are verified by rustls-webpki (RFC 5280 path
//! building, validity at `now`, the clientAuth purpose when a certificate
//! names purposes); this file says which anchors count, how much of a
//! chain is looked at (`tollgate_jose::chain`), and for how long an
//! outcome holds ([`Verdict`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use tollgate_jose::chain::{ChainTooLarge, MAX_INTERMEDIATES};

/// The certificate chain a client presented (TLS, or a header from a
/// declared proxy), leaf first, DER. Clones share one chain: the TLS
/// listener makes one per connection, and each of its requests carries a
/// clone, so what is learnt about the chain lasts the connection.
#[derive(Clone)]
pub struct CertificateChain {
    inner: Arc<Presented>,
}

struct Presented {
    chain: Box<[CertificateDer<'static>]>,
    /// RFC 8705 §3.1: base64url SHA-256 of the leaf's DER.
    thumbprint: Box<str>,
    /// SHA-256 of the whole chain, once asked for.
    digest: OnceLock<[u8; 32]>,
    /// The last outcome of verifying this chain, and to which anchors (by
    /// their digest).
    verdict: Mutex<Option<([u8; 32], Verdict)>>,
}

impl std::fmt::Debug for CertificateChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificateChain(x5t#S256={})", self.inner.thumbprint)
    }
}

impl CertificateChain {
    /// `None` for an empty chain.
    pub fn new(chain: Vec<CertificateDer<'static>>) -> Option<Self> {
        let leaf = chain.first()?;
        let thumbprint = B64
            .encode(tollgate_jose::digest::sha256(leaf.as_ref()))
            .into();
        Some(Self {
            inner: Arc::new(Presented {
                chain: chain.into(),
                thumbprint,
                digest: OnceLock::new(),
                verdict: Mutex::new(None),
            }),
        })
    }

    /// A PEM chain, leaf first (a proxy's header). Decoded no further than
    /// one certificate past the most that are looked at: such a chain is
    /// refused whatever follows.
    pub fn from_pem(pem: &[u8]) -> Option<Self> {
        let chain: Vec<_> = CertificateDer::pem_slice_iter(pem)
            .take(MAX_INTERMEDIATES + 2)
            .collect::<Result<_, _>>()
            .ok()?;
        Self::new(chain)
    }

    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.inner.chain[0]
    }

    /// The certificates after the leaf (intermediates, as sent).
    pub fn intermediates(&self) -> &[CertificateDer<'static>] {
        &self.inner.chain[1..]
    }

    /// The `x5t#S256` of the leaf.
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// Whether the chain is small enough to be looked at; only the
    /// certificates' lengths are read.
    pub(crate) fn within_limits(&self) -> Result<(), ChainTooLarge> {
        tollgate_jose::chain::within_limits(self.inner.chain.iter().map(|c| c.as_ref()))
    }

    /// SHA-256 of the whole chain (each certificate length-prefixed).
    pub fn digest(&self) -> [u8; 32] {
        *self.inner.digest.get_or_init(|| {
            tollgate_jose::digest::sha256_parts(self.inner.chain.iter().map(|c| c.as_ref()))
        })
    }

    /// What verifying this chain to `anchors` gave before, if it holds at
    /// `now`.
    pub(crate) fn remembered(&self, anchors: &AnchorSet, now: i64) -> Option<Verdict> {
        let last = self.inner.verdict.lock().unwrap_or_else(|p| p.into_inner());
        last.filter(|(digest, verdict)| *digest == anchors.digest && verdict.holds_at(now))
            .map(|(_, verdict)| verdict)
    }

    /// Notes what verifying this chain to `anchors` gave.
    pub(crate) fn remember(&self, anchors: &AnchorSet, verdict: Verdict) {
        let mut last = self.inner.verdict.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some((anchors.digest, verdict));
    }
}

/// Whether a chain verified to a set of anchors, and the span of time in
/// which that answer holds. rustls-webpki reads the time only to compare
/// it with each certificate's notBefore and notAfter, so the answer cannot
/// change between two consecutive such edges of the chain: a success is
/// never kept past the earliest notAfter, nor a "not yet valid" past the
/// notBefore that ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) trusted: bool,
    /// Unix seconds: from `from` (included) to `until` (excluded).
    from: i64,
    until: i64,
}

/// How long a failure holds whose certificates' dates cannot be read
/// (a parser stricter than webpki's): the dates could end it.
const UNDATED_FAILURE_SECS: i64 = 60;

impl Verdict {
    /// Whether this answer is still the answer at `now`.
    pub(crate) fn holds_at(&self, now: i64) -> bool {
        self.from <= now && now < self.until
    }

    /// The answer `trusted` given at `now` for `chain`.
    fn of(trusted: bool, chain: &[CertificateDer<'_>], now: i64) -> Self {
        let (from, until) = match (edges(chain, now), trusted) {
            (Some(span), _) => span,
            // Undated, a success is not kept: it could outlive a notAfter.
            (None, true) => (now, now),
            (None, false) => (now, now.saturating_add(UNDATED_FAILURE_SECS)),
        };
        Self {
            trusted,
            from,
            until,
        }
    }
}

/// The last validity edge of `chain` at or before `now` and the first
/// after it. A certificate is valid from its notBefore through its
/// notAfter (RFC 5280 §4.1.2.5), so its edges are notBefore and the
/// second after notAfter.
fn edges(chain: &[CertificateDer<'_>], now: i64) -> Option<(i64, i64)> {
    let (mut from, mut until) = (i64::MIN, i64::MAX);
    for der in chain {
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
        let validity = cert.validity();
        let not_before = validity.not_before.timestamp();
        let after = validity.not_after.timestamp().saturating_add(1);
        for edge in [not_before, after] {
            match edge <= now {
                true => from = from.max(edge),
                false => until = until.min(edge),
            }
        }
    }
    Some((from, until))
}

/// The CA certificates of one file (a client CA, a trust domain's bundle).
#[derive(Debug, Clone)]
pub struct AnchorSet {
    anchors: Arc<[TrustAnchor<'static>]>,
    /// SHA-256 of the file: which anchors these are, for remembered
    /// verifications (a changed file is another set).
    digest: [u8; 32],
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
        Ok(Self {
            anchors: anchors.into(),
            digest: tollgate_jose::digest::sha256(pem),
        })
    }

    /// Which anchors these are: SHA-256 of the file they were read from.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Verifies `certificate`'s chain at `now` (Unix seconds) and says for
    /// how long the answer holds. Blocks for as long as path building
    /// takes: call it off the request path, and only on a chain
    /// [`CertificateChain::within_limits`] (`verdicts::trusted` does both).
    pub(crate) fn judge(&self, certificate: &CertificateChain, now: i64) -> Verdict {
        let trusted = self.verifies(certificate, now).is_ok();
        Verdict::of(trusted, &certificate.inner.chain, now)
    }

    /// Whether `certificate` chains to one of these anchors at `now` (Unix
    /// seconds), for client authentication.
    fn verifies(&self, certificate: &CertificateChain, now: i64) -> Result<(), String> {
        // Whoever calls, path building never sees more than the limits.
        certificate.within_limits().map_err(|e| e.to_string())?;
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

/// Verdicts remembered at most (~100 bytes each).
const VERDICTS_CAPACITY: usize = 10_000;

/// The outcomes of chains verified recently, by (chain, anchors) digest:
/// the core's state (beside the other services); `chains` fills it.
pub struct ChainVerdicts {
    pub(crate) cache: quick_cache::sync::Cache<([u8; 32], [u8; 32]), Verdict>,
    pub(crate) runs: AtomicU64,
}

impl Default for ChainVerdicts {
    fn default() -> Self {
        Self {
            cache: quick_cache::sync::Cache::new(VERDICTS_CAPACITY),
            runs: AtomicU64::new(0),
        }
    }
}

impl ChainVerdicts {
    /// How many chains were verified rather than answered from memory.
    pub fn verifications(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}
