//! `tollgate serve`: logging, the runtime, the server until SIGTERM or
//! Ctrl-C.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

pub fn serve(config: PathBuf, listen: Option<String>, log_format: LogFormat) -> ExitCode {
    crate::runtime::allocator::return_large_allocations_to_the_os();
    // Flushes what is queued when the server ends.
    let _log_writer = match init_logging(log_format) {
        Ok(flush) => flush,
        Err(e) => {
            eprintln!("error: cannot start the log writer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        // Registered before the server says it listens: until then SIGTERM
        // would end the process at once, dropping what it was sent.
        let shutdown = match shutdown_signal() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot handle SIGTERM: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut builder = crate::Server::builder(&config);
        if let Some(listen) = &listen {
            builder = builder.listen(listen);
        }
        let server = match builder.bind().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        match server.run(shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Log lines are formatted on the request's thread and written by a
/// writer thread in batches (see `log_writer`): a token costs no write of
/// its own. Nothing is dropped: when the output is stuck, requests wait.
fn init_logging(format: LogFormat) -> std::io::Result<crate::observe::log_writer::Flush> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, flush) =
        crate::observe::log_writer::Writer::new("tollgate-log", std::io::stderr())?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => logs
            .with_ansi(colours(std::io::stderr().is_terminal(), |name| {
                std::env::var_os(name)
            }))
            .fmt_fields(crate::observe::log_format::Fields)
            .event_format(crate::observe::log_format::Text::new(
                crate::observe::log_format::Timestamp,
            ))
            .init(),
        // One object per line, the event's fields at the top level and the
        // request span (its id) beside them: what log shippers index.
        LogFormat::Json => logs
            .with_timer(crate::observe::log_format::Timestamp)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(flush)
}

/// Whether log lines get colours: on a terminal, unless `NO_COLOR` is set
/// to anything but the empty string (no-color.org); `CLICOLOR_FORCE`
/// (not `0`) forces them, as it does for the help.
fn colours(terminal: bool, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty() && v != "0");
    if var("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    terminal || set("CLICOLOR_FORCE")
}

/// Completes on SIGTERM or SIGINT; both handlers are in place when it
/// returns.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

#[cfg(test)]
mod tests {
    use super::colours;

    #[test]
    fn log_colours_on_a_terminal_unless_no_color() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).into())
            }
        };
        assert!(colours(true, env(&[])));
        assert!(!colours(false, env(&[])));
        assert!(!colours(true, env(&[("NO_COLOR", "1")])));
        assert!(colours(true, env(&[("NO_COLOR", "")])), "empty: not set");
        assert!(colours(false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!colours(false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!colours(
            true,
            env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])
        ));
    }
}
