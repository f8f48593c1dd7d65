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
//!
//! HTTP/2 has no such timer in hyper, and its pings are answered by any
//! live client, so an HTTP/2 connection that sent only its preface (or a
//! request head that never ends) stayed open for good: each connection is
//! watched, and one with no request in flight for the head limit is
//! closed. The number of connections is bounded, in total (below the
//! process's file limit) and per source address.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::listener::Acceptor;
use poem::{Endpoint, EndpointExt, Request};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tollgate_core::CertificateChain;

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
    /// Connections served at once, in all.
    pub max_connections: usize,
    /// Connections served at once from one source address.
    pub max_per_address: usize,
}

/// Connections from one address at most: enough for a proxy in front of
/// tollgate, too few to hold the process's file descriptors.
pub(crate) const MAX_PER_ADDRESS: usize = 1_000;

/// Connections in all at most: the file limit less what the server needs
/// besides (key and config files, the log, Redis, outgoing fetches).
pub(crate) fn max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given, nothing else.
    let files = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1_024
    };
    files
        .saturating_sub(files / 10)
        .saturating_sub(64)
        .clamp(64, 1_000_000)
}

/// A connection that may have presented a client certificate: where the
/// TLS handshake puts it, for every request of the connection to carry.
pub(crate) trait PeerCertificates {
    fn certificate_slot(&self) -> Option<Arc<OnceLock<CertificateChain>>> {
        None
    }
}

impl PeerCertificates for tokio::net::TcpStream {}

/// The body type poem's responses convert to.
type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// Serves `endpoint` on every connection `acceptor` yields until `shutdown`
/// completes; then stops accepting, serves the open connections for the
/// drain time, lets each finish the request it is serving (HTTP/1.1
/// keep-alive connections close after it, HTTP/2 ones get GOAWAY), and
/// returns once they are done or the grace period is over.
pub(crate) async fn serve<A: Acceptor<Io: PeerCertificates>>(
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
    let open = Arc::new(Open::default());
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
        let address = remote.as_socket_addr().map(|a| a.ip());
        let Some(slot) = open.take(address, &limits) else {
            // Over a limit: closed at once, before any work is spent on it.
            drop(io);
            continue;
        };
        let activity = Arc::new(Activity::default());
        let endpoint = endpoint.clone();
        let certificate = io.certificate_slot();
        let service = hyper::service::service_fn({
            let activity = activity.clone();
            move |req| {
                let endpoint = endpoint.clone();
                let mut req = Request::from((req, local.clone(), remote.clone(), scheme.clone()));
                // Set once the handshake is done, which is before any request.
                if let Some(presented) = certificate.as_ref().and_then(|c| c.get()) {
                    req.extensions_mut()
                        .insert(super::client_cert::PeerCertificate(presented.clone()));
                }
                let in_flight = activity.start();
                async move {
                    let response = endpoint.get_response(req).await;
                    drop(in_flight);
                    Ok::<_, Infallible>(hyper::Response::<ResponseBody>::from(response))
                }
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(FirstByte::new(io, limits.head)), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let idle_limit = limits.head;
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(connection);
            tokio::select! {
                // A reset, a timeout or a malformed request: the
                // connection's end, which the client already sees; not the
                // server's error.
                ended = &mut connection => if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended");
                },
                () = activity.idle_for(idle_limit) => {
                    tracing::debug!("idle connection closed");
                }
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

/// The connections being served, in all and by source address.
#[derive(Default)]
struct Open {
    total: AtomicUsize,
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place among the open ones, given back when dropped.
struct Slot {
    open: Arc<Open>,
    address: Option<IpAddr>,
}

impl Open {
    /// A place for a connection from `address`, if the limits allow one.
    fn take(self: &Arc<Self>, address: Option<IpAddr>, limits: &Limits) -> Option<Slot> {
        if self.total.fetch_add(1, Ordering::Relaxed) >= limits.max_connections {
            self.total.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        if let Some(ip) = address {
            let mut by_address = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
            let count = by_address.entry(ip).or_default();
            if *count >= limits.max_per_address {
                self.total.fetch_sub(1, Ordering::Relaxed);
                return None;
            }
            *count += 1;
        }
        Some(Slot {
            open: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.total.fetch_sub(1, Ordering::Relaxed);
        if let Some(ip) = self.address {
            let mut by_address = self
                .open
                .by_address
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(count) = by_address.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    by_address.remove(&ip);
                }
            }
        }
    }
}

/// What one connection is doing: requests in flight, and when the last
/// one started or ended.
#[derive(Default)]
struct Activity {
    in_flight: AtomicUsize,
    /// Milliseconds since the connection was accepted, at the last change.
    changed_at: std::sync::atomic::AtomicU64,
    since: OnceInstant,
}

/// The instant a connection was accepted.
struct OnceInstant(tokio::time::Instant);

impl Default for OnceInstant {
    fn default() -> Self {
        Self(tokio::time::Instant::now())
    }
}

/// A request in flight; its end is a change.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Activity {
    fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        InFlight(self.clone())
    }

    fn touch(&self) {
        let ms = u64::try_from(self.since.0.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.changed_at.store(ms, Ordering::Relaxed);
    }

    /// Completes once no request has been in flight for `limit`.
    async fn idle_for(&self, limit: Duration) {
        let mut deadline = self.since.0 + limit;
        loop {
            tokio::time::sleep_until(deadline).await;
            let changed =
                self.since.0 + Duration::from_millis(self.changed_at.load(Ordering::Relaxed));
            if self.in_flight.load(Ordering::Relaxed) > 0 {
                deadline = tokio::time::Instant::now() + limit;
            } else if changed + limit > tokio::time::Instant::now() {
                deadline = changed + limit;
            } else {
                return;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_bounded_in_all_and_per_address_and_given_back() {
        let limits = Limits {
            head: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(1),
            drain: Duration::ZERO,
            max_connections: 3,
            max_per_address: 2,
        };
        let open = Arc::new(Open::default());
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = open.take(Some(a), &limits).unwrap();
        let _second = open.take(Some(a), &limits).unwrap();
        assert!(
            open.take(Some(a), &limits).is_none(),
            "a third from one address"
        );
        let _other = open.take(Some(b), &limits).unwrap();
        assert!(open.take(Some(b), &limits).is_none(), "a fourth in all");
        drop(first);
        let _again = open.take(Some(a), &limits).expect("given back");
        assert_eq!(open.total.load(Ordering::Relaxed), 3);
    }
}
