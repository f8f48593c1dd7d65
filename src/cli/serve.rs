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
    crate::memory::return_large_allocations_to_the_os();
    // Flushes what is queued when the server ends.
    let _log_writer = init_logging(log_format);
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
        let server = match crate::Server::bind(&config, listen.as_deref()).await {
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

/// Log lines are formatted on the request's thread but written by a
/// writer thread, through a buffer: a burst of requests makes one write of
/// many lines instead of a write per line (the audit event of every token
/// cost 35-40 % of the throughput when written directly). Nothing is
/// dropped: when the queue is full, requests wait for the writer.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("tollgate-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
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
    guard
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
