//! The TLS listener: rustls with a client-certificate verifier that asks
//! for (never requires) a certificate and accepts any whose handshake
//! signature checks, so that every judgement of the certificate happens at
//! the token endpoint and every failure there is the same 401. The
//! handshake runs on the connection's own task (never in the accept loop),
//! and the certificate it presented is kept beside the stream for the
//! connection loop to hand to each request.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::connections::PeerCertificates;
use tollgate_core::CertificateChain;

/// The rustls configuration of a certificate and key; `offer`: ask
/// clients for a certificate (when certificates can authenticate anyone).
pub(crate) fn server_config(cert: &[u8], key: &[u8], offer: bool) -> Result<ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = CertificateDer::pem_slice_iter(cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| e.to_string())?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match offer {
        true => builder.with_client_cert_verifier(Arc::new(AnyClientCert {
            algorithms: provider.signature_verification_algorithms,
        })),
        false => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Asks for a client certificate and takes any: the handshake proves the
/// client holds its key (the signature is checked here); whether the
/// certificate is worth anything is the token endpoint's question.
#[derive(Debug)]
struct AnyClientCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The configurations to serve, one after the other; never ends.
type Configs<S> = futures_util::stream::Chain<S, futures_util::stream::Pending<Arc<ServerConfig>>>;

/// TCP connections made TLS with the configuration in force (a new one
/// from `configs` whenever the files change).
pub(crate) struct TlsAcceptor<S> {
    tcp: TcpAcceptor,
    configs: Configs<S>,
    current: Option<tokio_rustls::TlsAcceptor>,
}

impl<S: Stream<Item = Arc<ServerConfig>>> TlsAcceptor<S> {
    pub(crate) fn new(tcp: TcpAcceptor, configs: S) -> Self {
        Self {
            tcp,
            configs: configs.chain(futures_util::stream::pending()),
            current: None,
        }
    }
}

impl<S> Acceptor for TlsAcceptor<S>
where
    S: Stream<Item = Arc<ServerConfig>> + Send + Unpin + 'static,
{
    type Io = TlsIo;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.tcp.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(TlsIo, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let Some(acceptor) = self.current.clone() else {
                // The first configuration before the first connection.
                if let Some(config) = self.configs.next().await {
                    self.current = Some(config.into());
                }
                continue;
            };
            tokio::select! {
                config = self.configs.next() => if let Some(config) = config {
                    self.current = Some(config.into());
                },
                accepted = self.tcp.accept() => {
                    let (tcp, local, remote, _) = accepted?;
                    // TLS 1.3 sends its session tickets just after the
                    // handshake, and the response follows as a second small
                    // write: with Nagle on, that write waited for the
                    // client's delayed ACK, 40 ms a new connection.
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY not set");
                    }
                    let io = TlsIo::new(acceptor.accept(tcp));
                    return Ok((io, local, remote, Scheme::HTTPS));
                }
            }
        }
    }
}

/// A TLS connection, its handshake driven by the first read or write.
pub(crate) struct TlsIo {
    state: State,
    certificate: Arc<OnceLock<CertificateChain>>,
}

/// The stream itself is not boxed: every read and write goes through it,
/// and the handshake (boxed) is what is short-lived.
#[expect(
    clippy::large_enum_variant,
    reason = "the large variant is the one in use for the connection's life"
)]
enum State {
    Handshaking(Box<tokio_rustls::Accept<TcpStream>>),
    Ready(tokio_rustls::server::TlsStream<TcpStream>),
}

impl TlsIo {
    fn new(handshake: tokio_rustls::Accept<TcpStream>) -> Self {
        Self {
            state: State::Handshaking(Box::new(handshake)),
            certificate: Arc::default(),
        }
    }

    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<&mut tokio_rustls::server::TlsStream<TcpStream>>> {
        if let State::Handshaking(handshake) = &mut self.state {
            let stream = std::task::ready!(Pin::new(&mut **handshake).poll(cx))?;
            let chain = stream.get_ref().1.peer_certificates().map(|c| c.to_vec());
            if let Some(certificate) = chain.and_then(CertificateChain::new) {
                let _ = self.certificate.set(certificate);
            }
            self.state = State::Ready(stream);
        }
        match &mut self.state {
            State::Ready(stream) => Poll::Ready(Ok(stream)),
            State::Handshaking(_) => unreachable!("replaced above"),
        }
    }
}

impl PeerCertificates for TlsIo {
    fn certificate_slot(&self) -> Option<Arc<OnceLock<CertificateChain>>> {
        Some(self.certificate.clone())
    }
}

impl AsyncRead for TlsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let stream = std::task::ready!(self.get_mut().poll_ready(cx))?;
        Pin::new(stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let stream = std::task::ready!(self.get_mut().poll_ready(cx))?;
        Pin::new(stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let stream = std::task::ready!(self.get_mut().poll_ready(cx))?;
        Pin::new(stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        match &self.state {
            State::Ready(stream) => stream.is_write_vectored(),
            State::Handshaking(_) => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = std::task::ready!(self.get_mut().poll_ready(cx))?;
        Pin::new(stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = std::task::ready!(self.get_mut().poll_ready(cx))?;
        Pin::new(stream).poll_shutdown(cx)
    }
}
