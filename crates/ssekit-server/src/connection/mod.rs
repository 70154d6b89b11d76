//! Connections: accepting them, and serving subscriptions straight from the socket.
//!
//! An idle subscriber must cost little memory (thousands are held at once), and hyper keeps two
//! 8 KiB buffers per connection for its whole life. So every connection starts here: we read
//! the first request head into a small buffer; a subscription (`GET …/events`, `GET /v1/generate`)
//! is answered directly — the head, then chunks of pre-encoded event bytes — and anything else is
//! handed, with the bytes already read, to hyper and the axum router for the rest of the
//! connection's life.

mod head;
mod respond;
mod rewind;
mod stall;

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::error::ApiError;
use crate::AppState;
use head::Head;
use rewind::Rewind;
use ssekit_api::ErrorCode;
use stall::StallGuard;

/// How long shutdown waits for open connections to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// How long a refused connection is given to take its `503` before it is closed.
const REFUSE_GRACE: Duration = Duration::from_secs(1);
/// Refused connections given that grace at once; beyond, a refusal is one non-blocking write
/// and a close, so a flood of refused connections cannot itself use up the descriptors.
const MAX_REFUSING: usize = 64;

/// Accepts connections until shutdown, then waits (a while) for open ones to end.
///
/// Every accepted connection counts against `--max-connections`, whatever it turns out to be:
/// one over the limit is answered `503` with `Retry-After` and closed at once, so connections
/// that never finish a request cannot take the descriptors the server needs.
pub async fn serve(state: AppState, listener: TcpListener, router: Router) {
    let tracker = TaskTracker::new();
    let refusing = Arc::new(AtomicUsize::new(0));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = state.shutdown.cancelled() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: pause rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match Open::acquire(&state) {
            Some(open) => tracker.spawn(connection(state.clone(), router.clone(), tcp, peer, open)),
            None => tracker.spawn(refuse(state.clone(), tcp, refusing.clone())),
        };
    }
    tracker.close();
    if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}

/// Counts an open connection for as long as it lives.
struct Open(AppState);

impl Open {
    fn acquire(state: &AppState) -> Option<Self> {
        let open = state.metrics.connections.inc();
        if open as usize >= state.config.max_connections {
            state.metrics.connections.dec();
            return None;
        }
        Some(Self(state.clone()))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.metrics.connections.dec();
    }
}

/// Answers a connection over the limit: `503` with `Retry-After`, then close, within a couple of
/// seconds whatever the client does.
async fn refuse(state: AppState, mut tcp: TcpStream, refusing: Arc<AtomicUsize>) {
    state.metrics.refused_connections.inc();
    let e = ApiError::new(
        ErrorCode::TooManyConnections,
        "the server holds as many connections as it may; retry shortly",
    )
    .retry_after(1);
    let answer = respond::error_bytes(&e, &[], false);
    if refusing.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::Relaxed);
        let _ = tcp.try_write(&answer);
        return;
    }
    let mut sink = [0u8; 1024];
    // Answer once the head has come (an HTTP client takes an answer before its request for a
    // broken connection), or the grace is over; at most MAX_HEAD bytes are read and dropped.
    let _ = tokio::time::timeout(REFUSE_GRACE, async {
        let (mut read, mut tail) = (0, [0u8; 4]);
        while read < head::MAX_HEAD {
            let n = match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            read += n;
            for &b in &sink[..n] {
                tail = [tail[1], tail[2], tail[3], b];
            }
            if &tail == b"\r\n\r\n" {
                break;
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(REFUSE_GRACE, async {
        if tcp.write_all(&answer).await.is_err() {
            return;
        }
        // Drained, so the close does not reset the answer away before the client reads it.
        let _ = tcp.shutdown().await;
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    refusing.fetch_sub(1, Ordering::Relaxed);
}

async fn connection(
    state: AppState,
    router: Router,
    tcp: TcpStream,
    peer: SocketAddr,
    _open: Open,
) {
    // Events are small and must leave at once.
    let _ = tcp.set_nodelay(true);
    let mut io = StallGuard::new(
        tcp,
        state.config.stall_timeout,
        state.metrics.stalled_disconnects.clone(),
    );
    let mut buf = Vec::new();
    loop {
        match head::read(&mut io, &mut buf, state.config.header_timeout).await {
            Head::Closed => return,
            Head::Refuse(e) => {
                let _ = respond::write_error(&mut io, &e, &[], false).await;
                return;
            }
            Head::Sse(req) => {
                if buf.is_empty() {
                    // Nothing pipelined behind the request: hold no buffer while streaming.
                    buf = Vec::new();
                }
                let req = Box::new(req);
                if !respond::serve(&state, &mut io, req, peer.ip(), &mut buf).await {
                    return;
                }
            }
            Head::Other => break,
        }
    }
    // Boxed: hyper's connection state is most of a connection's future, and a subscriber
    // served by the fast path above must not carry its size for hours.
    Box::pin(hyper_connection(state, router, Rewind::new(buf, io), peer)).await;
}

/// The rest of a connection, handed to hyper and the axum routes.
async fn hyper_connection(
    state: AppState,
    router: Router,
    io: Rewind<StallGuard<TcpStream>>,
    peer: SocketAddr,
) {
    let io = TokioIo::new(io);
    // The routes find the peer (the client, or a proxy naming it) where axum's own server puts it.
    let router = tower::ServiceExt::map_request(
        router,
        move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        },
    );
    // hyper's header timeout only runs with a timer. It counts from when hyper starts waiting
    // for a head, so it also closes a keep-alive connection left idle. Its buffer bound is the
    // largest head it reads and what it queues of a response to a client that does not read.
    let mut conn = pin!(hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout)
        .max_buf_size(head::MAX_HEAD)
        .serve_connection(io, TowerToHyperService::new(router))
        .with_upgrades());
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = state.shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Classifies one request head, for the fuzz target: must never panic, whatever the bytes.
#[cfg(feature = "fuzzing")]
pub fn fuzz_classify(data: &[u8]) {
    let mut buf = data.to_vec();
    let before = buf.len();
    if let Some(Head::Sse(req)) = head::classify(&mut buf) {
        assert!(
            buf.len() < before,
            "a subscription's head is taken out of the buffer"
        );
        if let head::SseRoute::Events(id) = &req.route {
            let _ = ssekit_api::stream_id(id);
        }
        let _ = crate::extract::last_event_id(req.last_event_id.as_deref(), &req.query);
    }
}
