//! The sample console client: discovers the identity server, gets a token
//! with the client credentials grant, prints it, calls the API and prints
//! its answer. Every failure is one line on stderr and exit code 1.
//!
//! `cargo run --release --example client -- [--authority URL] [--client-id ID]
//!  [--client-secret SECRET | --private-key FILE [--kid KID] |
//!  --assertion-file FILE | --cert FILE --key FILE] [--ca FILE] [--dpop]
//!  [--scope SCOPE] [--api URL]`
//!
//! Without a secret: `--private-key` signs a fresh `private_key_jwt`
//! assertion for each request with the client's own key (PKCS#8 PEM, as
//! `tollgate keys client` writes it); `--assertion-file` sends the
//! platform token in the file (re-read each time: a projected Kubernetes
//! service-account token is renewed in place); `--cert` and `--key`
//! present a client certificate in the TLS handshakes (mutual TLS, RFC
//! 8705: the token is bound to it, and the API must see it too).

use std::process::ExitCode;

use base64::Engine;
use clap::Parser;
use serde::Deserialize;
use serde_json::Value;

#[derive(Parser)]
#[command(about = "Sample client: client credentials token, then an API call")]
struct Args {
    #[arg(long, default_value = "http://localhost:5001")]
    authority: String,
    /// Default `client` (with a secret or a private key); with
    /// `--assertion-file` none is sent unless given.
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long, default_value = "secret")]
    client_secret: String,
    /// Authenticate with private_key_jwt, signing with this key.
    #[arg(long, conflicts_with = "assertion_file")]
    private_key: Option<std::path::PathBuf>,
    /// The `kid` of the assertion's header; default: the key's RFC 7638
    /// thumbprint (what `tollgate keys client` publishes).
    #[arg(long, requires = "private_key")]
    kid: Option<String>,
    /// Authenticate with the platform token in this file.
    #[arg(long)]
    assertion_file: Option<std::path::PathBuf>,
    /// Authenticate with this client certificate (PEM) over mutual TLS,
    /// and present it to the API too.
    #[arg(long, requires = "key", conflicts_with_all = ["private_key", "assertion_file"])]
    cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of `--cert`.
    #[arg(long, requires = "cert")]
    key: Option<std::path::PathBuf>,
    /// Also trust this CA (PEM) for HTTPS, e.g. a test server's certificate.
    #[arg(long)]
    ca: Option<std::path::PathBuf>,
    /// Bind the token to a key made for this run (DPoP, RFC 9449): a
    /// fresh proof for the token request and for the API call.
    #[arg(long)]
    dpop: bool,
    /// Space-separated scopes; empty to ask for all the client may have.
    #[arg(long, default_value = "api1")]
    scope: String,
    #[arg(long, default_value = "http://localhost:6001/identity")]
    api: String,
}

#[derive(Deserialize)]
struct Discovery {
    token_endpoint: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    // Like any command-line tool: when whatever reads the output goes away
    // (`client | head`), end quietly instead of panicking in println!.
    // SAFETY: restores the default disposition of one signal, before any
    // other thread writes to stdout.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            eprintln!("error: {line}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
    if let Some(ca) = &args.ca {
        let ca = reqwest::Certificate::from_pem(&read(ca)?)
            .map_err(|e| format!("--ca is not a PEM certificate: {e}"))?;
        builder = builder.add_root_certificate(ca);
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let pem = [read(cert)?, read(key)?].concat();
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| format!("--cert and --key are not a PEM certificate and key: {e}"))?;
        builder = builder.identity(identity);
    }
    let http = builder
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;

    // 1. Discovery.
    let authority = args.authority.trim_end_matches('/');
    let url = format!("{authority}/.well-known/openid-configuration");
    let response = http.get(&url).send().await.map_err(|e| {
        format!(
            "cannot reach the identity server at {authority}: {}",
            cause(&e)
        )
    })?;
    if !response.status().is_success() {
        return Err(format!(
            "discovery at {url} answered HTTP {}",
            response.status()
        ));
    }
    let discovery: Discovery = response
        .json()
        .await
        .map_err(|e| format!("the discovery document at {url} is not valid: {e}"))?;

    // 2. Token.
    let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
    if !args.scope.is_empty() {
        form.push(("scope", args.scope.clone()));
    }
    let mut request = http.post(&discovery.token_endpoint);
    let dpop = if args.dpop {
        Some(DpopKey::new()?)
    } else {
        None
    };
    if let Some(key) = &dpop {
        request = request.header("DPoP", key.proof("POST", &discovery.token_endpoint, None)?);
    }
    let client_id = args.client_id.clone().unwrap_or_else(|| "client".into());
    if let Some(key) = &args.private_key {
        let assertion = sign_assertion(
            key,
            args.kid.as_deref(),
            &client_id,
            &discovery.token_endpoint,
        )?;
        form.push(("client_id", client_id.clone()));
        form.push(("client_assertion_type", JWT_BEARER.into()));
        form.push(("client_assertion", assertion));
    } else if args.cert.is_some() {
        // Mutual TLS: the certificate authenticates; the body names the
        // client (RFC 8705 §2).
        form.push(("client_id", client_id.clone()));
    } else if let Some(file) = &args.assertion_file {
        let token = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the assertion {}: {e}", file.display()))?;
        if let Some(id) = &args.client_id {
            form.push(("client_id", id.clone()));
        }
        form.push(("client_assertion_type", JWT_BEARER.into()));
        form.push(("client_assertion", token.trim().to_owned()));
    } else {
        // client_secret_basic: id and secret form-urlencoded first (RFC
        // 6749 §2.3.1).
        let basic = format!(
            "{}:{}",
            form_encode(&client_id),
            form_encode(&args.client_secret)
        );
        request = request.header(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(basic)
            ),
        );
    }
    let response = request.form(&form).send().await.map_err(|e| {
        format!(
            "cannot reach the token endpoint {}: {}",
            discovery.token_endpoint,
            cause(&e)
        )
    })?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("the token endpoint answered HTTP {status} without JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "token request refused (HTTP {}): {} ({})",
            status.as_u16(),
            body["error"].as_str().unwrap_or("no error code"),
            body["error_description"]
                .as_str()
                .unwrap_or("no description"),
        ));
    }
    let token = body["access_token"]
        .as_str()
        .ok_or("the token response has no access_token")?
        .to_owned();
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );

    // 3. Call the API.
    let call = match &dpop {
        None => http.get(&args.api).bearer_auth(&token),
        Some(key) => http
            .get(&args.api)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", key.proof("GET", &args.api, Some(&token))?),
    };
    let response = call
        .send()
        .await
        .map_err(|e| format!("cannot reach the API at {}: {}", args.api, cause(&e)))?;
    let status = response.status();
    if !status.is_success() {
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(|c| format!(" (WWW-Authenticate: {c})"))
            .unwrap_or_default();
        return Err(format!(
            "the API refused the call: HTTP {status}{challenge}"
        ));
    }
    let claims: Value = response
        .json()
        .await
        .map_err(|e| format!("the API answered without JSON: {e}"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&claims).unwrap_or_default()
    );
    Ok(())
}

/// A DPoP key for one run, and its public JWK.
struct DpopKey {
    encoding: jsonwebtoken::EncodingKey,
    jwk: jsonwebtoken::jwk::Jwk,
}

impl DpopKey {
    fn new() -> Result<Self, String> {
        let (key, pem) = tollgate::SigningKey::generate(tollgate::Algorithm::ES256)
            .map_err(|e| format!("cannot make a DPoP key: {e}"))?;
        let encoding = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes())
            .map_err(|e| format!("cannot use the DPoP key: {e}"))?;
        let mut public = serde_json::to_value(key.jwk()).map_err(|e| e.to_string())?;
        if let Some(o) = public.as_object_mut() {
            o.remove("kid");
            o.remove("use");
        }
        let jwk = serde_json::from_value(public).map_err(|e| e.to_string())?;
        Ok(Self { encoding, jwk })
    }

    /// A proof for one request (RFC 9449 §4.2); with the access token's
    /// hash (`ath`) when it goes to an API.
    fn proof(&self, method: &str, url: &str, token: Option<&str>) -> Result<String, String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).map_err(|_| "no random source".to_owned())?;
        let now = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut claims = serde_json::json!({
            "htm": method, "htu": url, "iat": now, "jti": B64.encode(jti),
        });
        if let Some(token) = token {
            let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
            claims["ath"] = serde_json::Value::String(B64.encode(hash.as_ref()));
        }
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A fresh `private_key_jwt` assertion (RFC 7523 §2.2): `iss` = `sub` =
/// the client, `aud` the token endpoint, a minute long, a random `jti`.
fn sign_assertion(
    key_file: &std::path::Path,
    kid: Option<&str>,
    client_id: &str,
    token_endpoint: &str,
) -> Result<String, String> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let pem = std::fs::read(key_file)
        .map_err(|e| format!("cannot read the key {}: {e}", key_file.display()))?;
    let text = String::from_utf8_lossy(&pem);
    let key = tollgate::SigningKey::from_pkcs8_pem(&text)
        .map_err(|e| format!("{}: {e}", key_file.display()))?;
    let bad = |e: jsonwebtoken::errors::Error| format!("{}: {e}", key_file.display());
    let (alg, encoding) = match key.algorithm() {
        tollgate::Algorithm::ES256 => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(&pem).map_err(bad)?,
        ),
        tollgate::Algorithm::EdDSA => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&pem).map_err(bad)?,
        ),
        tollgate::Algorithm::RS256 => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&pem).map_err(bad)?,
        ),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.unwrap_or(key.kid()).to_owned());
    header.typ = Some("JWT".into());
    let now = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti).map_err(|_| "no random source".to_owned())?;
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jti),
    });
    jsonwebtoken::encode(&header, &claims, &encoding).map_err(bad)
}

/// application/x-www-form-urlencoded encoding of one value.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The innermost cause of a transport error ("Connection refused"), which
/// is what a person needs to read.
fn cause(e: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    if e.is_timeout() {
        "timed out".into()
    } else {
        inner.to_string()
    }
}
