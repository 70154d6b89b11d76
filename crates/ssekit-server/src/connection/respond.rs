//! Writing a subscription's response straight to the socket: the head, then the stream in
//! chunked encoding, one write per event, from bytes shared by every subscriber.

use std::io::{self, IoSlice};
use std::net::IpAddr;
use std::pin::pin;

use axum::http::StatusCode;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use ssekit_api::auth::Action;

use super::head::{SseRequest, SseRoute};
use crate::access::Caller;
use crate::error::ApiError;
use crate::extract::last_event_id;
use crate::routes::generations::one_shot_stream;
use crate::sse::{self, Opened};
use crate::AppState;

/// Serves one subscription request from the client at `peer`. Returns whether the connection
/// may serve another request.
///
/// `pending` receives bytes of a next (pipelined) request that arrive while the stream runs.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    state: &AppState,
    io: &mut S,
    req: Box<SseRequest>,
    peer: IpAddr,
    pending: &mut Vec<u8>,
) -> bool {
    // A subscription is never a preflight (those are OPTIONS, answered by hyper's router).
    let cors = ssekit_api::cors::headers(&state.config.cors_origins, req.origin.as_deref(), false);
    let keep = !req.close;
    // The checks, in the order the axum routes make them (routes/generations.rs). The request
    // (boxed, like this future: both are done before the stream starts, and a subscriber must
    // not carry their size for as long as it listens) goes with them: nothing of it, a token
    // among it, is held while the stream runs.
    let opened = Box::pin(async move {
        let caller = Caller::new(
            &state.config,
            true,
            req.authorization.as_deref(),
            &req.query,
            req.cookie.as_deref(),
            req.forwarded_for.as_deref(),
            peer,
        );
        let last = last_event_id(req.last_event_id.as_deref(), &req.query)?;
        let id = match &req.route {
            SseRoute::Events(id) => {
                ssekit_api::stream_id(id)?;
                caller.may(state, Action::Subscribe(id))?;
                id.clone()
            }
            SseRoute::OneShot => one_shot_stream(state, &caller, last.as_ref(), &req.query).await?,
        };
        sse::open(state, &id, last).await
    })
    .await;
    let sub = match opened {
        Err(e) => return write_error(io, &e, &cors, keep).await.is_ok() && keep,
        Ok(Opened::NoContent) => {
            let head = response_head(StatusCode::NO_CONTENT, &cors, &[], plain(keep));
            return io.write_all(&head).await.is_ok() && keep;
        }
        Ok(Opened::Stream(sub)) => sub,
    };
    let mut extra: Vec<(&str, &str)> = ssekit_api::stream::STREAM_HEADERS.to_vec();
    extra.push(("transfer-encoding", "chunked"));
    // A stream says keep-alive, as hyper's route says it for HTTP/1.1 (sse::subscribe).
    let connection = Some(if keep { "keep-alive" } else { "close" });
    let head = response_head(StatusCode::OK, &cors, &extra, connection);
    if io.write_all(&head).await.is_err() {
        return false;
    }
    drop(head);

    let mut stream = pin!(sub.into_stream());
    let mut probe = [0u8; 64];
    let mut probing = true;
    loop {
        tokio::select! {
            chunk = stream.next() => match chunk {
                Some(Ok(bytes)) => {
                    if write_chunk(io, &bytes).await.is_err() {
                        return false;
                    }
                }
                Some(Err(never)) => match never {},
                None => break,
            },
            // A listening client sends nothing: a read that ends means it left. Bytes mean a
            // pipelined request, kept for when this response is done.
            read = io.read(&mut probe), if probing => match read {
                Ok(0) | Err(_) => return false,
                Ok(n) => {
                    pending.extend_from_slice(&probe[..n]);
                    probing = false;
                }
            },
        }
    }
    io.write_all(b"0\r\n\r\n").await.is_ok() && keep && !state.shutdown.is_cancelled()
}

/// One chunk: size line, data, CRLF — one vectored write.
async fn write_chunk<S: AsyncWrite + Unpin>(io: &mut S, data: &[u8]) -> io::Result<()> {
    let mut size = [0u8; 18];
    let size = chunk_size_line(data.len(), &mut size);
    let mut slices = [
        IoSlice::new(size),
        IoSlice::new(data),
        IoSlice::new(b"\r\n"),
    ];
    let mut bufs = &mut slices[..];
    while !bufs.is_empty() {
        let n = io.write_vectored(bufs).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut bufs, n);
    }
    Ok(())
}

/// `{len:x}\r\n` in `buf`, without allocating: this runs once per event per subscriber.
fn chunk_size_line(len: usize, buf: &mut [u8; 18]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = 16;
    let mut n = len;
    loop {
        i -= 1;
        buf[i] = HEX[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    buf[16] = b'\r';
    buf[17] = b'\n';
    &buf[i..]
}

pub async fn write_error<S: AsyncWrite + Unpin>(
    io: &mut S,
    e: &ApiError,
    cors: &[(&'static str, String)],
    keep: bool,
) -> io::Result<()> {
    io.write_all(&error_bytes(e, cors, keep)).await
}

/// A whole error response: head and JSON body.
pub fn error_bytes(e: &ApiError, cors: &[(&'static str, String)], keep: bool) -> Vec<u8> {
    let body = e.body();
    let len = body.len().to_string();
    let headers = e.headers();
    let mut extra = vec![
        ("content-type", "application/json"),
        ("content-length", len.as_str()),
    ];
    extra.extend(headers.iter().map(|(n, v)| (*n, v.as_str())));
    let mut out = response_head(e.status(), cors, &extra, plain(keep));
    out.extend_from_slice(body.as_bytes());
    out
}

/// The `Connection` header of an answer that is not a stream, as hyper writes it to an HTTP/1.1
/// request: none when the connection stays open, `close` when it closes.
fn plain(keep: bool) -> Option<&'static str> {
    (!keep).then_some("close")
}

fn response_head(
    status: StatusCode,
    cors: &[(&'static str, String)],
    extra: &[(&str, &str)],
    connection: Option<&str>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let fields = extra
        .iter()
        .copied()
        .chain(connection.map(|c| ("connection", c)))
        .chain([("date", date.as_str())])
        .chain(cors.iter().map(|(n, v)| (*n, v.as_str())));
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_lines() {
        for n in [0usize, 1, 15, 16, 255, 4096, 1 << 40, usize::MAX] {
            let mut buf = [0u8; 18];
            assert_eq!(
                chunk_size_line(n, &mut buf),
                format!("{n:x}\r\n").as_bytes()
            );
        }
    }
}
