//! `tollgate serve`: logging, the runtime, the server until SIGTERM or
//! Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

pub fn serve(
    config: PathBuf,
    listen: Option<String>,
    log_format: crate::observe::logging::LogFormat,
) -> ExitCode {
    crate::runtime::allocator::return_large_allocations_to_the_os();
    // Flushes what is queued when the server ends.
    let _log_writer = match crate::observe::logging::init(log_format) {
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
