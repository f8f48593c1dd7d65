//! `[server.tls]`: the certificate and key files, read and parsed at
//! validation so that a wrong path or a broken PEM is a problem with its
//! line, and re-read by the server when they change.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::problems::Problems;
use super::raw::RawTls;

/// The TLS files, resolved against the config file's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A certificate chain and its key, as PEM bytes that parse.
pub struct TlsPem {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

impl TlsFiles {
    /// Reads and parses both files.
    pub fn read(&self) -> Result<TlsPem, (&'static str, String)> {
        let cert = std::fs::read(&self.cert)
            .map_err(|e| ("cert", format!("{}: cannot read: {e}", self.cert.display())))?;
        let chain: Vec<_> = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<_, _>>()
            .map_err(|e| ("cert", format!("{}: {e}", self.cert.display())))?;
        if chain.is_empty() {
            return Err((
                "cert",
                format!("{}: no PEM CERTIFICATE in the file", self.cert.display()),
            ));
        }
        let key = std::fs::read(&self.key)
            .map_err(|e| ("key", format!("{}: cannot read: {e}", self.key.display())))?;
        PrivateKeyDer::from_pem_slice(&key).map_err(|e| {
            (
                "key",
                format!("{}: not a PEM private key ({e})", self.key.display()),
            )
        })?;
        Ok(TlsPem { cert, key })
    }
}

pub(super) fn build(
    raw: Option<&RawTls>,
    base: &Path,
    problems: &mut Problems<'_>,
) -> Option<TlsFiles> {
    let raw = raw?;
    let (cert, key) = match (&raw.cert, &raw.key) {
        (Some(cert), Some(key)) => (cert, key),
        // Client certificates from a proxy only: TLS ends before tollgate.
        (None, None) => return None,
        (Some(_), None) => {
            problems.add(
                "server.tls.cert",
                "cert is set without key: set both, or neither",
            );
            return None;
        }
        (None, Some(_)) => {
            problems.add(
                "server.tls.key",
                "key is set without cert: set both, or neither",
            );
            return None;
        }
    };
    let files = TlsFiles {
        cert: base.join(cert),
        key: base.join(key),
    };
    if let Err((which, message)) = files.read() {
        problems.add(format!("server.tls.{which}"), message);
    }
    Some(files)
}
