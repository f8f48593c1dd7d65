//! The connection loop: accepts connections and serves poem's endpoints on
//! them with hyper, then shuts down gracefully.
//!
//! poem's own `Server` does the same with three costs on every request and
//! one gap. It boxes every connection, so each read and write goes through
//! dynamic dispatch and a lock around split halves; for its idle timeout it
//! runs a second task per connection and wakes it (a mutex) on every read
//! and write; and it sets no limit on how long a request *head* may take,
//! so a head trickled in byte by byte holds a connection forever. Here the
//! acceptor's stream goes to hyper unboxed, and hyper's own header-read
//! timer bounds both an idle keep-alive connection and a slow head; a new
//! connection must send its first byte within the same limit (hyper's timer
//! starts only once the protocol is known, after that byte).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::listener::Acceptor;
use poem::{Endpoint, EndpointExt, Request};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The time limits of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// From the moment a connection waits for a request until that
    /// request's head has arrived in full: closes idle keep-alive
    /// connections and heads trickled in byte by byte alike.
    pub head: Duration,
    /// How long requests in flight may take to finish after the shutdown
    /// signal.
    pub shutdown_grace: Duration,
    /// How long connections are still served after the shutdown signal,
    /// before they are told to close: a request already on its way on a
    /// kept-alive connection is answered.
    pub drain: Duration,
}

/// The body type poem's responses convert to.
type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// Serves `endpoint` on every connection `acceptor` yields until `shutdown`
/// completes; then stops accepting, serves the open connections for the
/// drain time, lets each finish the request it is serving (HTTP/1.1
/// keep-alive connections close after it, HTTP/2 ones get GOAWAY), and
/// returns once they are done or the grace period is over.
pub(crate) async fn serve<A: Acceptor>(
    mut acceptor: A,
    endpoint: impl Endpoint + 'static,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) -> std::io::Result<()> {
    let endpoint = Arc::new(endpoint.map_to_response());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.head);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = acceptor.accept() => accepted,
        };
        let (io, local, remote, scheme) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors or memory: accepting again at
                // once would spin; connections being served finish and
                // free some.
                tracing::warn!(error = %e, "cannot accept connections; retrying in 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let endpoint = endpoint.clone();
        let service = hyper::service::service_fn(move |req| {
            let endpoint = endpoint.clone();
            let req = Request::from((req, local.clone(), remote.clone(), scheme.clone()));
            async move {
                let response = endpoint.get_response(req).await;
                Ok::<_, Infallible>(hyper::Response::<ResponseBody>::from(response))
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(FirstByte::new(io, limits.head)), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A reset, a timeout or a malformed request: the connection's
            // end, which the client already sees; not the server's error.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(acceptor);
    if graceful.count() > 0 {
        tokio::time::sleep(limits.drain).await;
    }
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "requests still in flight after the grace period; stopping anyway"
        );
    }
    Ok(())
}

/// An error that concerns one connection only (the peer gave up before it
/// was accepted); the listener is fine.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// A new connection's stream that fails with `TimedOut` if no byte
/// arrives within the limit (with TLS: no handshake and first request
/// byte). After the first byte it only forwards.
struct FirstByte<I> {
    io: I,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I> FirstByte<I> {
    fn new(io: I, limit: Duration) -> Self {
        Self {
            io,
            deadline: Some(Box::pin(tokio::time::sleep(limit))),
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for FirstByte<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        let Some(deadline) = self.deadline.as_mut() else {
            return read;
        };
        match read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                self.deadline = None;
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::ErrorKind::TimedOut.into())),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for FirstByte<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
