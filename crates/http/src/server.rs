//! The HTTP listener: hyper's HTTP/1.1 connection with a timer, under limits a stranger cannot
//! talk past (`[http] max_connections`, `max_connections_per_ip`, `header_timeout`,
//! `request_timeout`).
//!
//! Written here rather than with `axum::serve` because that one takes no timer, so a client
//! that sends half a request header keeps its connection for ever (300 of them starved the
//! open pixel). What holds now:
//! - the request head must arrive within `header_timeout`; the same timer runs while a
//!   keep-alive connection waits for its next request, so it is also the idle timeout;
//! - a request (body read and handler) must be answered within `request_timeout` (503);
//! - at most `max_connections` connections, and `max_connections_per_ip` from one address;
//!   past either, the connection gets a `503` with `Retry-After` and is closed at once;
//! - a write that makes no progress for `request_timeout` (a client that never reads its
//!   answers) ends the connection.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Limits of the HTTP listener.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client address (0: no per-address cap, e.g. behind a
    /// reverse proxy where every connection comes from the proxy).
    pub max_connections_per_ip: usize,
    /// Time allowed for a request's head to arrive, and for an idle keep-alive connection to
    /// start its next request.
    pub header_timeout: Duration,
    /// Time allowed to read a request's body and answer it.
    pub request_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_ip: 64,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A connection whose writes must progress: a write (or flush) that stays blocked longer than
/// `limit` fails, which ends the connection. Without it, a client that sends requests and
/// never reads the answers keeps its connection for ever once the socket buffers fill (hyper's
/// server has no write timeout).
struct WriteDeadline {
    inner: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteDeadline {
    fn new(inner: TcpStream, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled: None,
        }
    }

    /// The outcome of a write-side poll: progress clears the clock, a stall starts it.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not read its answer in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\nToo many connections\n";

/// Tell a connection over a limit to come back later, without waiting on it for long. What
/// the client already sent is read and dropped for a moment before closing: closing a socket
/// with unread data resets it, and the client would see the reset instead of the 503.
fn refuse(mut stream: TcpStream) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(BUSY).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 4096];
            let mut left: usize = 64 * 1024;
            while left > 0 {
                match stream.read(&mut sink).await? {
                    0 => break,
                    n => left = left.saturating_sub(n),
                }
            }
            Ok::<_, std::io::Error>(())
        })
        .await;
    });
}

fn timed_out() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, HeaderValue::from_static("5")),
            (header::CONNECTION, HeaderValue::from_static("close")),
        ],
        "The request took too long.\n",
    )
        .into_response()
}

/// Serve `router` on `listener` under `limits` until `shutdown` resolves; requests in flight
/// finish first, idle connections close. Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_ip = Arc::new(herald_domain::connections::PerAddress::default());
    // Dropping `stop_tx` tells every connection to finish; each holds a `done_rx` clone, so
    // `done_tx.closed()` resolves when the last one has ended.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "HTTP connection refused: max_connections reached");
            refuse(stream);
            continue;
        };
        let Some(ip_slot) = per_ip.take(peer.ip(), limits.max_connections_per_ip) else {
            tracing::debug!(%peer, "HTTP connection refused: max_connections_per_ip reached");
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let request_timeout = limits.request_timeout;
        let header_timeout = limits.header_timeout;
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let answer =
                        match tokio::time::timeout(request_timeout, router.oneshot(req)).await {
                            Ok(Ok(r)) => r,
                            Ok(Err(never)) => match never {},
                            Err(_) => timed_out(),
                        };
                    Ok::<_, Infallible>(answer)
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_headers(100);
            let io = WriteDeadline::new(stream, request_timeout);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "HTTP connection ended");
                    }
                }
                _ = stop.changed() => {
                    // Requests in flight finish, within the request timeout.
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(request_timeout, conn).await;
                }
            }
            drop((slot, ip_slot, done));
        });
    }
    drop(stop_tx);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
