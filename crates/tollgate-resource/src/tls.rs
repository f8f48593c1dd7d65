//! Mutual TLS for an API that verifies client certificates itself (feature
//! `rustls`): [`BoundedClientCertVerifier`] refuses a chain over the
//! limits the server also keeps (at most 4 certificates after the leaf and
//! 16 KiB in all) before the verifier it wraps builds a path. Unbounded,
//! RFC 5280 path building tries orders of the certificates it is given and
//! parses one at each step: a 55 KB chain of self-issued "CAs" held the
//! handshake for seconds of CPU.
//!
//! ```no_run
//! # fn f(roots: rustls::RootCertStore) -> Result<(), rustls::server::VerifierBuilderError> {
//! use std::sync::Arc;
//! use tollgate_resource::tls::BoundedClientCertVerifier;
//!
//! let webpki = rustls::server::WebPkiClientVerifier::builder(roots.into())
//!     .allow_unauthenticated()
//!     .build()?;
//! let verifier = Arc::new(BoundedClientCertVerifier::new(webpki));
//! // rustls::ServerConfig::builder().with_client_cert_verifier(verifier)...
//! # Ok(()) }
//! ```

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, OtherError, SignatureScheme,
};

pub use tollgate_jose::chain::{ChainTooLarge, MAX_CHAIN_BYTES, MAX_INTERMEDIATES};

/// A client-certificate verifier that looks at a chain only within the
/// limits, and otherwise asks the one it wraps.
#[derive(Debug)]
pub struct BoundedClientCertVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl BoundedClientCertVerifier {
    /// Wraps `inner` (typically rustls's `WebPkiClientVerifier`).
    pub fn new(inner: Arc<dyn ClientCertVerifier>) -> Self {
        Self { inner }
    }
}

impl ClientCertVerifier for BoundedClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    /// Refuses a chain over the limits (a `bad_certificate` alert) from
    /// the certificates' lengths alone; verifies the others as `inner`
    /// does.
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref());
        tollgate_jose::chain::within_limits(chain).map_err(|too_large| {
            Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(too_large))))
        })?;
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Takes every chain, counting them.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl ClientCertVerifier for Counting {
        fn root_hint_subjects(&self) -> &[DistinguishedName] {
            &[]
        }
        fn verify_client_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: UnixTime,
        ) -> Result<ClientCertVerified, Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(ClientCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            Err(Error::General("not here".into()))
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            Err(Error::General("not here".into()))
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            Vec::new()
        }
    }

    #[test]
    fn a_chain_over_the_limits_never_reaches_the_wrapped_verifier() {
        let inner = Arc::new(Counting::default());
        let bounded = BoundedClientCertVerifier::new(inner.clone());
        let der = |n: usize| CertificateDer::from(vec![0u8; n]);
        let verify = |leaf: usize, intermediates: &[usize]| {
            let intermediates: Vec<_> = intermediates.iter().map(|n| der(*n)).collect();
            bounded.verify_client_cert(&der(leaf), &intermediates, UnixTime::now())
        };
        assert!(verify(1_000, &[1_000; 4]).is_ok());
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        let refused = [
            verify(1_000, &[1_000; 5]),
            verify(10_000, &[6_385]),
            verify(MAX_CHAIN_BYTES + 1, &[]),
        ];
        for refusal in refused {
            let Err(Error::InvalidCertificate(CertificateError::Other(e))) = refusal else {
                panic!("{refusal:?}");
            };
            assert!(e.to_string().contains("at most"), "{e}");
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 1, "none of them verified");
    }
}
