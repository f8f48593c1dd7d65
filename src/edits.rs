//! The command line of the file's edits, `clients ...` and `users ...`:
//! their clap definitions, each command handed to the library's.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use tollgate::cli;

use super::Format;

#[derive(Subcommand)]
pub(crate) enum ClientsCommand {
    /// Append a client (with a fresh secret, printed once as `secret: ...`,
    /// unless --no-secret).
    Add {
        /// The new client's client_id.
        id: String,
        /// A scope it may request (repeat for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Its tokens' lifetime, e.g. 15m (default 1h).
        #[arg(long)]
        lifetime: Option<String>,
        /// No secret (it authenticates with keys or federation).
        #[arg(long)]
        no_secret: bool,
        /// Write it into this file that the main file includes (a team's
        /// file) instead of the main file; validated together with it.
        #[arg(long)]
        into: Option<PathBuf>,
        /// The main file (the one tollgate serves), not an included one.
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
    /// Add a new secret (printed once) and make the client's other secrets
    /// expire after the overlap.
    RotateSecret {
        /// The client's client_id.
        id: String,
        /// How long the client's other secrets keep working, e.g. 7d or
        /// 12h: the time to deploy the new one.
        #[arg(long, default_value = "7d")]
        overlap: String,
        /// The main file (the one tollgate serves).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
    /// The registered clients.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// The main file (the one tollgate serves).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
    /// Remove a client.
    Remove {
        /// The client's client_id.
        id: String,
        /// The main file (the one tollgate serves).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum UsersCommand {
    /// Append a user. Her password is asked for on a terminal, else read
    /// from the first line of stdin; --generate makes one and prints it
    /// once as `password: ...`.
    Add {
        /// Her username: the `sub` of her tokens.
        username: String,
        /// Her email address (the email scope).
        #[arg(long)]
        email: Option<String>,
        /// Her name (the profile scope), e.g. "Alice Smith".
        #[arg(long)]
        name: Option<String>,
        /// A group she belongs to (repeat for several).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Write her into this file that the main file includes instead of
        /// the main file; validated together with it.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Make a strong random password and print it once.
        #[arg(long)]
        generate: bool,
        /// The main file (the one tollgate serves), not an included one.
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
    /// Replace a user's password (read or made as for `add`), in the file
    /// that declares her.
    SetPassword {
        /// Her username.
        username: String,
        /// Make a strong random password and print it once.
        #[arg(long)]
        generate: bool,
        /// The main file (the one tollgate serves).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
    /// The users of the file and the files it includes.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// The main file (the one tollgate serves).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
    /// Remove a user from the file that declares her.
    Remove {
        /// Her username.
        username: String,
        /// The main file (the one tollgate serves).
        #[arg(long, default_value = "identity.toml", env = "TOLLGATE_CONFIG")]
        config: PathBuf,
    },
}

pub(crate) fn clients(command: ClientsCommand) -> ExitCode {
    match command {
        ClientsCommand::Add {
            id,
            scopes,
            lifetime,
            no_secret,
            into,
            config,
        } => cli::clients(
            &config,
            cli::ClientsAction::Add {
                id,
                scopes,
                lifetime,
                no_secret,
                into,
            },
        ),
        ClientsCommand::RotateSecret {
            id,
            overlap,
            config,
        } => cli::clients(&config, cli::ClientsAction::RotateSecret { id, overlap }),
        ClientsCommand::List { format, config } => {
            cli::list_clients(&config, format == Format::Json)
        }
        ClientsCommand::Remove { id, config } => {
            cli::clients(&config, cli::ClientsAction::Remove { id })
        }
    }
}

pub(crate) fn users(command: UsersCommand) -> ExitCode {
    match command {
        UsersCommand::Add {
            username,
            email,
            name,
            groups,
            file,
            generate,
            config,
        } => cli::users(
            &config,
            cli::UsersAction::Add {
                username,
                name,
                email,
                groups,
                file,
                generate,
            },
        ),
        UsersCommand::SetPassword {
            username,
            generate,
            config,
        } => cli::users(
            &config,
            cli::UsersAction::SetPassword { username, generate },
        ),
        UsersCommand::List { format, config } => cli::list_users(&config, format == Format::Json),
        UsersCommand::Remove { username, config } => {
            cli::users(&config, cli::UsersAction::Remove { username })
        }
    }
}
