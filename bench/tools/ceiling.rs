//! The physical limit of a token endpoint on this machine, as the
//! throughput issue defines it: the cost of a bare poem handler returning a
//! constant JSON body (the HTTP floor) plus one ES256 signature on a
//! pre-parsed key. `bench/run.sh` measures both and reports tollgate's
//! tokens/s as a share of 1 / (floor + signature), and, with the cost of
//! one verification added, the limit for private_key_jwt. Not a sample.
//!
//! ```sh
//! cargo run --release --example ceiling -- sign              # µs per ES256 signature, and verification
//! cargo run --release --example ceiling -- serve 127.0.0.1:5202
//! ```

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use poem::http::header::CONTENT_TYPE;
use poem::listener::TcpListener;
use poem::{Response, Route, Server, get, handler};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["sign"] => {
            sign();
            Ok(())
        }
        ["serve", addr] => serve(addr),
        _ => {
            eprintln!("usage: ceiling sign | ceiling serve ADDR");
            std::process::exit(2);
        }
    }
}

/// Signs a JWT-sized input (the header and claims of a quickstart token
/// are ~420 bytes) for two seconds after a warm-up and prints the mean;
/// then the same for verifying such a signature, what a client assertion
/// or a DPoP proof costs on top.
fn sign() {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("key generation");
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .expect("the key just made");
    let input = [b'e'; 420];
    let mean = |d: Duration, op: &dyn Fn()| {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < d {
            for _ in 0..100 {
                op();
            }
            n += 100;
        }
        started.elapsed().as_secs_f64() / n as f64
    };
    let signing = || {
        std::hint::black_box(key.sign(&rng, std::hint::black_box(&input)).unwrap());
    };
    mean(Duration::from_millis(500), &signing);
    let each = mean(Duration::from_secs(2), &signing);
    let signature = key.sign(&rng, &input).expect("a signature");
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.public_key().as_ref());
    let verifying = || {
        std::hint::black_box(public.verify(std::hint::black_box(&input), signature.as_ref()))
            .expect("it verifies");
    };
    mean(Duration::from_millis(500), &verifying);
    let verify = mean(Duration::from_secs(2), &verifying);
    println!(
        "{{\"sign_us\":{:.2},\"signs_per_s\":{:.0},\"verify_us\":{:.2}}}",
        each * 1e6,
        1.0 / each,
        verify * 1e6
    );
}

/// A token response's size: the quickstart's access token is ~560
/// characters, so the floor pays for the same bytes on the wire.
static BODY: std::sync::LazyLock<bytes::Bytes> = std::sync::LazyLock::new(|| {
    let token = "x".repeat(560);
    format!(
        r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600,"scope":"api1"}}"#
    )
    .into()
});

#[handler]
fn constant() -> Response {
    Response::builder()
        .header(CONTENT_TYPE, "application/json")
        .body(BODY.clone())
}

/// A bare poem server: one route, no middleware, a constant body.
fn serve(addr: &str) -> std::io::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(
        Server::new(TcpListener::bind(addr))
            .run(Route::new().at("/connect/token", get(constant).post(constant))),
    )
}
