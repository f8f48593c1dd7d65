//! The sample protected API: `GET /identity` answers the caller's token
//! claims as `[{"type","value"}]`, if the token is valid and carries the
//! required scope. DPoP-bound tokens come as `Authorization: DPoP` with a
//! proof of the request. The checks are `tollgate-resource`'s poem
//! middleware. With `--tls-cert` and `--tls-key` it serves HTTPS and asks
//! clients for a certificate (verified to `--client-ca`, at most 4
//! certificates after the leaf and 16 KiB looked at), which each
//! request carries: a certificate-bound token (RFC 8705) passes only with
//! its certificate.
//!
//! `cargo run --release --example api -- [--authority URL] [--listen ADDR] [--scope NAME]
//!  [--tls-cert FILE --tls-key FILE --client-ca FILE]`

use std::sync::Arc;

use clap::Parser;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Json};
use poem::{EndpointExt, Route, get, handler};
use serde_json::{Value, json};
use tollgate_resource::poem::RequireToken;
use tollgate_resource::{Claims, TokenValidator};

#[derive(Parser)]
#[command(about = "Sample API protected by tollgate access tokens")]
struct Args {
    /// The identity server.
    #[arg(long, default_value = "http://localhost:5001")]
    authority: String,
    /// Where this API listens.
    #[arg(long, default_value = "127.0.0.1:6001")]
    listen: String,
    /// The scope a token must carry.
    #[arg(long, default_value = "api1")]
    scope: String,
    /// Also require this value in the token's `aud` (an `[[api_resources]]`
    /// name, for tokens asked for with `resource`).
    #[arg(long)]
    audience: Option<String>,
    /// The address clients call this API at, which DPoP proofs name
    /// (default: http:// and the listening address).
    #[arg(long)]
    public_url: Option<String>,
    /// Serve HTTPS with this certificate (PEM)...
    #[arg(long, requires_all = ["tls_key", "client_ca"])]
    tls_cert: Option<std::path::PathBuf>,
    /// ...and its key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// The CA (PEM) of the client certificates it accepts (optional ones).
    #[arg(long, requires = "tls_cert")]
    client_ca: Option<std::path::PathBuf>,
}

/// The caller's claims, which the middleware put in the request.
#[handler]
fn identity(claims: Data<&Claims>) -> Json<Vec<Value>> {
    let list = claims
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            json!({ "type": k, "value": value })
        })
        .collect();
    Json(list)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut validator = TokenValidator::new(&args.authority, Some(&args.scope));
    if let Some(audience) = &args.audience {
        validator = validator.with_audience(audience);
    }
    let validator = Arc::new(validator);
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let scheme = if args.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "API listening on {scheme}://{addr} (authority {}, scope {})",
        args.authority, args.scope
    );
    // DPoP proofs must name this address, whatever Host a request claims.
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    let app = Route::new()
        .at("/identity", get(identity))
        .with(RequireToken::new(validator, &public_url));
    if let (Some(cert), Some(key), Some(ca)) = (&args.tls_cert, &args.tls_key, &args.client_ca) {
        return match mutual_tls::serve(listener, app, cert, key, ca).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let acceptor = TcpAcceptor::from_tokio(listener).expect("tokio listener");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, None)
        .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// HTTPS that asks for a client certificate: poem's listeners do not hand
/// the peer's certificate to requests, so connections are accepted here
/// (tokio-rustls) and served by hyper, each request carrying the
/// connection's certificate as a `ClientCertificate`.
mod mutual_tls {
    use std::path::Path;
    use std::sync::Arc;

    use hyper_util::rt::{TokioExecutor, TokioIo};
    use poem::http::uri::Scheme;
    use poem::web::{LocalAddr, RemoteAddr};
    use poem::{Endpoint, EndpointExt};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tollgate_resource::ClientCertificate;
    use tollgate_resource::tls::BoundedClientCertVerifier;

    pub(super) async fn serve(
        listener: tokio::net::TcpListener,
        app: impl Endpoint + 'static,
        cert: &Path,
        key: &Path,
        client_ca: &Path,
    ) -> Result<(), String> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let chain = CertificateDer::pem_slice_iter(&read(cert)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--tls-cert: {e}"))?;
        let key =
            PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| format!("--tls-key: {e}"))?;
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(&read(client_ca)?) {
            let ca = ca.map_err(|e| format!("--client-ca: {e}"))?;
            roots.add(ca).map_err(|e| format!("--client-ca: {e}"))?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        // Optional: a call without a certificate still reaches the
        // validator, which refuses only the tokens bound to one.
        let webpki = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.into(),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| e.to_string())?;
        // A chain over the limits is refused before webpki builds a path:
        // handshakes run on the threads that serve requests.
        let verifier = Arc::new(BoundedClientCertVerifier::new(webpki));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| e.to_string())?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let app = Arc::new(app.map_to_response());
        loop {
            let (tcp, remote) = listener.accept().await.map_err(|e| e.to_string())?;
            let local = tcp.local_addr().map_err(|e| e.to_string())?;
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let certificate = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|leaf| ClientCertificate(leaf.to_vec()));
                let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                    let (app, certificate) = (app.clone(), certificate.clone());
                    async move {
                        let mut req = poem::Request::from((
                            req,
                            LocalAddr(local.into()),
                            RemoteAddr(remote.into()),
                            Scheme::HTTPS,
                        ));
                        if let Some(certificate) = certificate {
                            req.extensions_mut().insert(certificate);
                        }
                        let response = app.get_response(req).await;
                        Ok::<_, std::convert::Infallible>(hyper::Response::from(response))
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    }
}
