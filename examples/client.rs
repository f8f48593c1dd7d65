//! The sample console client: discovers the identity server, gets a token
//! with the client credentials grant, prints it, calls the API and prints
//! its answer. Every failure is one line on stderr and exit code 1.
//!
//! `cargo run --example client -- [--authority URL] [--client-id ID]
//!  [--client-secret SECRET] [--scope SCOPE] [--api URL]`

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
    #[arg(long, default_value = "client")]
    client_id: String,
    #[arg(long, default_value = "secret")]
    client_secret: String,
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
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
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

    // 2. Token: client_secret_basic, id and secret form-urlencoded first
    //    (RFC 6749 §2.3.1).
    let basic = format!(
        "{}:{}",
        form_encode(&args.client_id),
        form_encode(&args.client_secret)
    );
    let mut form = vec![("grant_type", "client_credentials")];
    if !args.scope.is_empty() {
        form.push(("scope", &args.scope));
    }
    let response = http
        .post(&discovery.token_endpoint)
        .header(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(basic)
            ),
        )
        .form(&form)
        .send()
        .await
        .map_err(|e| {
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
    let response = http
        .get(&args.api)
        .bearer_auth(&token)
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
