//! The `tollgate` command line. The server itself is the library.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tollgate::oauth::client_auth::hash_secret;

#[derive(Parser)]
#[command(
    version,
    about = "OAuth 2.0 authorization server configured by one file"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default command).
    Serve(ServeArgs),
    /// Validate a config file and report every problem with its line.
    Check {
        #[arg(long, default_value = "identity.toml")]
        config: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Also print each effective setting and where it came from.
        #[arg(long)]
        show_origin: bool,
    },
    /// Print the Argon2id hash of a client secret for identity.toml.
    HashSecret {
        /// Make a strong random secret and print it with its hash.
        #[arg(long)]
        generate: bool,
    },
    /// Print the JSON schema of identity.toml.
    Schema,
    /// Exit 0 if the server at URL answers its health check with 2xx, 1
    /// otherwise: a container HEALTHCHECK that needs no shell or curl.
    /// Over https the certificate is not verified (it names the public
    /// host, not the loopback address checked).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:5001/healthz")]
        url: String,
    },
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new private signing key (PKCS#8 PEM, mode 0600; never
    /// overwrites) and print its kid and a [[keys.signing]] snippet.
    Generate {
        /// The key file to create.
        #[arg(long)]
        out: PathBuf,
        /// ES256, EdDSA or RS256.
        #[arg(long, default_value = "ES256")]
        algorithm: tollgate::keys::Algorithm,
        /// The snippet's activate_at: an RFC 3339 date-time or `now`.
        /// Default: one day from now, so every replica and API cache has
        /// the key before it signs.
        #[arg(long)]
        activate_at: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// The config file.
    #[arg(long, default_value = "identity.toml")]
    config: PathBuf,
    /// Listen address, overriding server.listen (e.g. 0.0.0.0:5001).
    #[arg(long)]
    listen: Option<String>,
    /// Log lines as text (default) or as one JSON object each.
    #[arg(long, value_enum, env = "TOLLGATE_LOG_FORMAT")]
    log_format: Option<LogFormat>,
}

#[derive(Clone, Copy, Default, clap::ValueEnum)]
enum LogFormat {
    #[default]
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or_else(|| {
        Command::Serve(ServeArgs {
            config: "identity.toml".into(),
            listen: None,
            // clap reads the variable only for an explicit `serve`.
            log_format: std::env::var("TOLLGATE_LOG_FORMAT")
                .ok()
                .and_then(|v| clap::ValueEnum::from_str(&v, true).ok()),
        })
    }) {
        Command::Serve(args) => serve(args),
        Command::Check {
            config,
            format,
            show_origin,
        } => check(&config, format, show_origin),
        Command::HashSecret { generate } => hash(generate),
        Command::Schema => {
            println!("{}", tollgate::config::schema_json());
            ExitCode::SUCCESS
        }
        Command::Healthcheck { url } => healthcheck(&url),
        Command::Keys {
            command:
                KeysCommand::Generate {
                    out,
                    algorithm,
                    activate_at,
                },
        } => generate_key(&out, algorithm, activate_at.as_deref()),
    }
}

/// `1 warning`, `2 warnings`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn healthcheck(url: &str) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let status = runtime.block_on(async {
        // No certificate store: the image has none, and the platform
        // verifier would fail to load it. A health check sends nothing
        // secret and reads one status, so the server's certificate (often
        // issued for the public name, not 127.0.0.1) is not verified.
        reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(3))
            .no_proxy()
            .tls_certs_only([])
            .tls_danger_accept_invalid_certs(true)
            .build()?
            .get(url)
            .send()
            .await
            .map(|r| r.status())
    });
    match status {
        Ok(s) if s.is_success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("unhealthy: {url} answered {s}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate_key(
    out: &std::path::Path,
    algorithm: tollgate::keys::Algorithm,
    activate_at: Option<&str>,
) -> ExitCode {
    use time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 is a nanosecond");
    let activate_at = match activate_at {
        None => now + time::Duration::days(1),
        Some("now") => now,
        Some(text) => match time::OffsetDateTime::parse(text, &Rfc3339) {
            Ok(t) => t,
            Err(_) => {
                eprintln!(
                    "error: --activate-at {text:?} is not `now` or an RFC 3339 date-time like 2027-01-01T00:00:00Z"
                );
                return ExitCode::from(2);
            }
        },
    };
    let (key, pem) = match tollgate::keys::SigningKey::generate(algorithm) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = tollgate::keys::store::ensure_private_dir(parent)
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = tollgate::keys::store::write_new(out, pem.as_bytes()) {
        let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it exists already; keys are never overwritten".to_owned()
        } else {
            e.to_string()
        };
        eprintln!("error: {}: {why}", out.display());
        return ExitCode::FAILURE;
    }
    let stamp = activate_at.format(&Rfc3339).unwrap_or_default();
    println!(
        "# kid {} ({algorithm}), written to {} (mode 0600)",
        key.kid(),
        out.display()
    );
    println!("# Published from the moment it is listed; signs from activate_at.");
    println!("[[keys.signing]]");
    println!("file = {:?}", out.display().to_string());
    println!("activate_at = {stamp}");
    ExitCode::SUCCESS
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // One object per line, the event's fields at the top level and the
        // request span (its id) beside them: what log shippers index.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    tollgate::memory::return_large_allocations_to_the_os();
    init_logging(args.log_format.unwrap_or_default());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match tollgate::Server::bind(&args.config, args.listen.as_deref()).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        match server.run(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}

/// `tollgate check`: the same validation `serve` and reload run, every
/// problem reported. Exit 0 valid (warnings allowed), 1 invalid, 2
/// unreadable.
fn check(path: &std::path::Path, format: Format, show_origin: bool) -> ExitCode {
    use tollgate::config::{self, Overrides, Problem};
    let text = match config::read(path) {
        Ok(t) => t,
        Err(e) => {
            match format {
                Format::Text => eprintln!("{e}"),
                Format::Json => println!(
                    "{}",
                    serde_json::json!({"file": path, "valid": false, "unreadable": e.to_string()})
                ),
            }
            return ExitCode::from(2);
        }
    };
    let report = config::check(
        &text,
        path,
        Overrides::Environment,
        time::OffsetDateTime::now_utc(),
    );
    let valid = report.config.is_some();
    match format {
        Format::Text => {
            for e in &report.errors {
                eprintln!("{}", e.render(path, None));
            }
            for w in &report.warnings {
                eprintln!("{}", w.render(path, Some("warning")));
            }
            if valid {
                println!(
                    "{}: ok ({})",
                    path.display(),
                    count(report.warnings.len(), "warning")
                );
            } else {
                eprintln!(
                    "{}: {}",
                    path.display(),
                    count(report.errors.len(), "error")
                );
            }
        }
        Format::Json => {
            let list = |problems: &[Problem]| -> Vec<serde_json::Value> {
                problems
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "line": p.line, "column": p.column, "key_path": p.key_path,
                            "message": p.message, "hint": p.hint,
                        })
                    })
                    .collect()
            };
            let out = serde_json::json!({
                "file": path, "valid": valid,
                "errors": list(&report.errors), "warnings": list(&report.warnings),
            });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
    if let (true, Some(cfg)) = (show_origin, &report.config) {
        for o in config::origins(&text, path, cfg) {
            println!("{} = {:?}  ({})", o.key, o.value, o.source);
        }
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn hash(generate: bool) -> ExitCode {
    let secret = if generate {
        generate_secret()
    } else {
        match read_secret() {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => {
                eprintln!("error: the secret is empty");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot read the secret: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    match hash_secret(&secret) {
        Ok(hash) => {
            if generate {
                println!("secret: {secret}");
                println!("hash:   {hash}");
            } else {
                println!("{hash}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: hashing failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prompts without echo on a terminal; otherwise reads the first line of
/// stdin (so `echo -n s | tollgate hash-secret` and pipelines work).
fn read_secret() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("client secret: ")
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// 32 characters from the 64 URL-unreserved ones that need no encoding
/// anywhere: 192 bits, and identical whether or not a client form-encodes
/// Basic credentials.
fn generate_secret() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random source");
    bytes
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect()
}
