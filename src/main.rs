//! The `tollgate` command line. The server itself is the library.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tollgate::config::Config;
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
    },
    /// Print the Argon2id hash of a client secret for identity.toml.
    HashSecret {
        /// Make a strong random secret and print it with its hash.
        #[arg(long)]
        generate: bool,
    },
    /// Print the JSON schema of identity.toml.
    Schema,
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// The config file.
    #[arg(long, default_value = "identity.toml")]
    config: PathBuf,
    /// Listen address, overriding server.listen (e.g. 0.0.0.0:5001).
    #[arg(long)]
    listen: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(ServeArgs {
        config: "identity.toml".into(),
        listen: None,
    })) {
        Command::Serve(args) => serve(args),
        Command::Check { config } => check(&config),
        Command::HashSecret { generate } => hash(generate),
        Command::Schema => {
            println!("{}", tollgate::config::schema_json());
            ExitCode::SUCCESS
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn serve(args: ServeArgs) -> ExitCode {
    init_logging();
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

fn check(path: &std::path::Path) -> ExitCode {
    match Config::load(path) {
        Ok(_) => {
            println!("{}: ok", path.display());
            ExitCode::SUCCESS
        }
        Err(e @ tollgate::config::ConfigError::Unreadable { .. }) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
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
