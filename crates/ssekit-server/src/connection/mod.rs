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

use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::AppState;
use head::Head;
use rewind::Rewind;
use stall::StallGuard;

/// How long shutdown waits for open connections to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// Accepts connections until shutdown, then waits (a while) for open ones to end.
pub async fn serve(state: AppState, listener: TcpListener, router: Router) {
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = state.shutdown.cancelled() => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of file descriptors, most likely: pause rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        tracker.spawn(connection(state.clone(), router.clone(), tcp));
    }
    tracker.close();
    if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}

async fn connection(state: AppState, router: Router, tcp: TcpStream) {
    // Events are small and must leave at once.
    let _ = tcp.set_nodelay(true);
    let mut io = StallGuard::new(
        tcp,
        state.config.stall_timeout,
        state.metrics.stalled_disconnects.clone(),
    );
    let mut buf = Vec::new();
    loop {
        match head::read(&mut io, &mut buf).await {
            Head::Closed => return,
            Head::Sse(req) => {
                if buf.is_empty() {
                    // Nothing pipelined behind the request: hold no buffer while streaming.
                    buf = Vec::new();
                }
                if !respond::serve(&state, &mut io, req, &mut buf).await {
                    return;
                }
            }
            Head::Other => break,
        }
    }
    let io = TokioIo::new(Rewind::new(buf, io));
    let mut conn = pin!(hyper::server::conn::http1::Builder::new()
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
