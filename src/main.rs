//! The `tollgate` command line: parsing only; each command is the library's
//! (`tollgate::cli`, `tollgate::Server`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tollgate::cli;

mod edits;

/// mimalloc: glibc's allocator spent a third of validating 100,000 clients
/// in consolidating and unlinking freed chunks, and kept the memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Set before the first allocation, which the Rust runtime makes before
/// `main`: mimalloc reserves its first arena then, with the options of
/// that moment. A function in `.init_array` runs before the runtime.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static ALLOCATOR_OPTIONS: extern "C" fn() = {
    extern "C" fn set() {
        tollgate::allocator::commit_as_used();
    }
    set
};

/// Colours of the help and the errors, on a terminal without `NO_COLOR`
/// (clap's `ColorChoice::Auto`; `CLICOLOR_FORCE=1` forces them).
const STYLES: clap::builder::Styles = {
    use clap::builder::styling::{AnsiColor, Effects};
    clap::builder::Styles::styled()
        .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .placeholder(AnsiColor::Cyan.on_default())
        .error(AnsiColor::Red.on_default().effects(Effects::BOLD))
        .valid(AnsiColor::Green.on_default())
        .invalid(AnsiColor::Yellow.on_default())
};

#[derive(Parser)]
#[command(
    version,
    about = "OAuth 2.0 authorization server configured by one file",
    styles = STYLES,
    color = clap::ColorChoice::Auto
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
        /// The config file (the main one; the files it includes are
        /// checked with it).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
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
    /// Print the JSON schema of identity.toml (or, with --included, of the
    /// files its `include` names).
    Schema {
        /// The schema of an included file (clients, scopes, resources and
        /// trusted issuers only) instead of identity.toml's.
        #[arg(long)]
        included: bool,
    },
    /// Exit 0 if the server at URL answers its health check with 2xx, 1
    /// otherwise: a container HEALTHCHECK that needs no shell or curl.
    /// Over https the certificate is not verified (it names the public
    /// host, not the loopback address checked).
    Healthcheck {
        /// The health endpoint to ask.
        #[arg(long, default_value = "http://127.0.0.1:5001/healthz")]
        url: String,
    },
    /// Register, rotate, list and remove clients, keeping every other byte
    /// of the file and validating the result before writing it.
    Clients {
        #[command(subcommand)]
        command: edits::ClientsCommand,
    },
    /// Add people, set their passwords, list and remove them, keeping every
    /// other byte of the file and validating the result before writing it.
    Users {
        #[command(subcommand)]
        command: edits::UsersCommand,
    },
    /// What an edit changes: clients, scopes, resources, trusted issuers,
    /// keys and users added, removed or changed (for review before it is applied).
    Diff {
        /// The file as it was (e.g. the main branch's identity.toml).
        old: PathBuf,
        /// The file as it would be after the edit.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit 1 when there are changes, 0 when there are none (as `git
        /// diff --exit-code`); without it the exit code is 0 either way.
        #[arg(long)]
        exit_code: bool,
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
    /// overwrites), or with --pkcs11 make one inside a hardware token
    /// (writing no file), and print its kid and a [[keys.signing]] snippet.
    Generate {
        /// The key file to create (not with --pkcs11).
        #[arg(long, required_unless_present = "pkcs11", conflicts_with = "pkcs11")]
        out: Option<PathBuf>,
        /// Make the key pair inside a token instead: the PKCS#11 module
        /// (shared library) of the token.
        #[arg(long, value_name = "MODULE", requires_all = ["token", "label"])]
        pkcs11: Option<PathBuf>,
        /// With --pkcs11: the token's label.
        #[arg(long, requires = "pkcs11")]
        token: Option<String>,
        /// With --pkcs11: the new key pair's label (CKA_LABEL).
        #[arg(long, requires = "pkcs11")]
        label: Option<String>,
        /// With --pkcs11: a file holding the user PIN.
        #[arg(long, requires = "pkcs11", conflicts_with = "pin_env", required_unless_present_any = ["pin_env", "out"])]
        pin_file: Option<PathBuf>,
        /// With --pkcs11: the environment variable holding the user PIN.
        #[arg(long, requires = "pkcs11")]
        pin_env: Option<String>,
        /// ES256, EdDSA or RS256 (in a token: ES256 or RS256).
        #[arg(long, default_value = "ES256")]
        algorithm: tollgate::Algorithm,
        /// The snippet's activate_at: an RFC 3339 date-time or `now`.
        /// Default: one day from now, so every replica and API cache has
        /// the key before it signs.
        #[arg(long)]
        activate_at: Option<String>,
    },
    /// Write a client's own key pair for private_key_jwt: the private key
    /// (PKCS#8 PEM, mode 0600; never overwrites) for the client, and print
    /// the `jwks = ...` line for its [[clients]] entry.
    Client {
        /// The private key file to create.
        #[arg(long)]
        out: PathBuf,
        /// ES256, EdDSA or RS256.
        #[arg(long, default_value = "ES256")]
        algorithm: tollgate::Algorithm,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Lines for a person.
    Text,
    /// One JSON document, for a pipeline.
    Json,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The config file.
    #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
    config: PathBuf,
    /// Listen address, overriding server.listen (e.g. 0.0.0.0:5001).
    #[arg(long)]
    listen: Option<String>,
    /// Log lines as text (default) or as one JSON object each.
    #[arg(long, value_enum, env = "TOLLGATE_LOG_FORMAT")]
    log_format: Option<LogFormat>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Lines for a person.
    Text,
    /// One JSON object per line, for a log shipper.
    Json,
}

impl From<LogFormat> for cli::LogFormat {
    fn from(f: LogFormat) -> Self {
        match f {
            LogFormat::Text => Self::Text,
            LogFormat::Json => Self::Json,
        }
    }
}

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or_else(|| {
        Command::Serve(ServeArgs {
            // clap reads the variables only for an explicit `serve`.
            config: std::env::var_os("TOLLGATE_CONFIG")
                .filter(|v| !v.is_empty())
                .map_or_else(|| "identity.toml".into(), PathBuf::from),
            listen: None,
            log_format: std::env::var("TOLLGATE_LOG_FORMAT")
                .ok()
                .and_then(|v| clap::ValueEnum::from_str(&v, true).ok()),
        })
    });
    match command {
        Command::Serve(args) => cli::serve(
            args.config,
            args.listen,
            args.log_format.map(Into::into).unwrap_or_default(),
        ),
        Command::Check {
            config,
            format,
            show_origin,
        } => {
            let format = match format {
                Format::Text => cli::Format::Text,
                Format::Json => cli::Format::Json,
            };
            cli::check(&config, format, show_origin)
        }
        Command::HashSecret { generate } => cli::hash(generate),
        Command::Clients { command } => edits::clients(command),
        Command::Users { command } => edits::users(command),
        Command::Diff {
            old,
            new,
            format,
            exit_code,
        } => cli::diff(&old, &new, format == Format::Json, exit_code),
        Command::Schema { included } => {
            match included {
                false => println!("{}", tollgate::schema_json()),
                true => println!("{}", tollgate::included_schema_json()),
            }
            ExitCode::SUCCESS
        }
        Command::Healthcheck { url } => cli::healthcheck(&url),
        Command::Keys {
            command:
                KeysCommand::Generate {
                    out,
                    pkcs11,
                    token,
                    label,
                    pin_file,
                    pin_env,
                    algorithm,
                    activate_at,
                },
        } => match (out, pkcs11, token, label) {
            (Some(out), None, ..) => cli::generate_key(&out, algorithm, activate_at.as_deref()),
            (None, Some(module), Some(token), Some(label)) => {
                let pin = match (pin_file, pin_env) {
                    (Some(file), None) => tollgate::PinSource::File(file),
                    (None, Some(var)) => tollgate::PinSource::Env(var),
                    _ => unreachable!("clap requires exactly one of --pin-file and --pin-env"),
                };
                let spec = tollgate::Pkcs11Key {
                    module,
                    token,
                    label,
                    pin,
                };
                cli::generate_pkcs11_key(&spec, algorithm, activate_at.as_deref())
            }
            _ => unreachable!("clap requires --out, or --pkcs11 with --token and --label"),
        },
        Command::Keys {
            command: KeysCommand::Client { out, algorithm },
        } => cli::generate_client_key(&out, algorithm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option and positional of every command, with its command's
    /// path, that has no help text.
    fn without_help(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", command.get_name());
        if command.get_about().is_none() && command.get_long_about().is_none() {
            out.push(format!("{path} (the command itself)"));
        }
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_name() != "help" {
                without_help(sub, &path, out);
            }
        }
    }

    #[test]
    fn every_command_option_and_positional_has_help() {
        let command = Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        without_help(&command, "", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }

    #[test]
    fn help_has_colours_for_a_terminal() {
        // Whether they are written is anstream's choice (a terminal, no
        // NO_COLOR): tests/it/cli.rs runs the binary for that.
        let help = Cli::command().render_help().ansi().to_string();
        assert!(help.contains("\x1b[32m"), "green headers: {help}");
        assert!(help.contains("\x1b[36m"), "cyan literals: {help}");
    }
}
