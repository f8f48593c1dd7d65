//! A load generator for token requests over mutual TLS, which wrk cannot
//! make (it presents no client certificate): `bench/run.sh` runs it for
//! the tls_client_auth rows. Each of `--connections` workers posts token
//! requests for `--duration`; with `--handshake-per-token` every request
//! opens a new connection with a full handshake (no session resumption),
//! else connections are kept alive. Prints the WRKJSON line wrk's scripts
//! print, so `bench/summarize.py` reads both alike. Not a sample.
//!
//! ```sh
//! cargo run --release --example mtls_load -- https://127.0.0.1:5203 \
//!   --ca server.pem --cert ledger.pem --key ledger.key --client-id ledger
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Parser)]
struct Args {
    /// The issuer (https://...).
    url: String,
    /// The server's certificate (or its CA), PEM.
    #[arg(long)]
    ca: String,
    /// The client certificate chain, PEM.
    #[arg(long)]
    cert: String,
    /// Its private key, PEM.
    #[arg(long)]
    key: String,
    #[arg(long, default_value = "ledger")]
    client_id: String,
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// A new connection and a full TLS handshake for every token.
    #[arg(long)]
    handshake_per_token: bool,
}

fn tls(args: &Args) -> rustls::ClientConfig {
    let read = |path: &str| std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&read(&args.ca)) {
        roots.add(cert.expect("a PEM certificate")).expect("a CA");
    }
    let chain: Vec<_> = CertificateDer::pem_slice_iter(&read(&args.cert))
        .collect::<Result<_, _>>()
        .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_slice(&read(&args.key)).expect("a PEM key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("the client certificate and key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if args.handshake_per_token {
        config.resumption = rustls::client::Resumption::disabled();
    }
    config
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut builder = reqwest::Client::builder().tls_backend_preconfigured(tls(&args));
    if args.handshake_per_token {
        builder = builder.pool_max_idle_per_host(0);
    }
    let http = builder.build().expect("an HTTPS client");
    let url = format!("{}/connect/token", args.url.trim_end_matches('/'));
    let body = format!(
        "grant_type=client_credentials&scope=api1&client_id={}",
        args.client_id
    );
    let until = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (http, url, body) = (http.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                let (mut latencies, mut non2xx, mut errors) = (Vec::new(), 0u64, 0u64);
                while Instant::now() < until {
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            latencies.push(sent.elapsed().as_micros() as u64);
                        }
                        Ok(_) => non2xx += 1,
                        Err(e) => {
                            // The first of a kind says why; the count says how often.
                            if errors == 0 {
                                eprintln!("error: {e}");
                            }
                            errors += 1;
                        }
                    }
                }
                (latencies, non2xx, errors)
            })
        })
        .collect();
    let (mut latencies, mut non2xx, mut errors) = (Vec::new(), 0, 0);
    for worker in workers {
        let (l, n, e) = worker.await.expect("a worker");
        latencies.extend(l);
        non2xx += n;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let requests = latencies.len() as u64 + non2xx;
    println!(
        "WRKJSON {{\"requests\":{requests},\"rps\":{:.1},\"non2xx\":{non2xx},\"socket_errors\":{errors},\"lat_p50_us\":{},\"lat_p99_us\":{}}}",
        latencies.len() as f64 / seconds,
        at(0.50),
        at(0.99)
    );
}
