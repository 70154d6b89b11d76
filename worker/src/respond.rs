//! Responses: JSON bodies, the shared API errors, event streams, CORS (the shared policy's
//! headers).

use std::time::Duration;

use futures::future::{select, Either};
use futures::{Stream, StreamExt};
use ssekit_api::ApiError;
use worker::{Headers, Request, Response, ResponseBuilder, Result};

use crate::config::Config;

/// What a route answers: a response, or an API error to send as JSON.
pub type Answer = std::result::Result<Response, ApiError>;

/// A runtime failure (storage, a stub) is a 503 the client may retry; the cause goes to the log.
pub fn internal(e: worker::Error) -> ApiError {
    worker::console_error!("ssekit worker: {e}");
    ApiError::store_unavailable()
}

/// `status` with a JSON body.
pub fn json(status: u16, body: &impl serde::Serialize) -> Answer {
    let res = Response::from_json(body).map_err(internal)?;
    Ok(res.with_status(status))
}

/// The error as `{"error":{"code","message"}}` with its status (and `Retry-After`,
/// `WWW-Authenticate`: [`ApiError::headers`]).
pub fn error(e: &ApiError) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    for (name, value) in e.headers() {
        let _ = headers.set(name, &value);
    }
    ResponseBuilder::new()
        .with_status(e.status().as_u16())
        .with_headers(headers)
        .fixed(e.body().into_bytes())
}

/// A body with a content type.
pub fn typed(content_type: &str, body: Vec<u8>, cache: &str) -> Answer {
    let headers = Headers::new();
    let _ = headers.set("content-type", content_type);
    let _ = headers.set("cache-control", cache);
    Ok(ResponseBuilder::new().with_headers(headers).fixed(body))
}

/// An event stream: the SSE headers, and each chunk sent as it comes; an error ends the
/// response abruptly (the connection is closed, not the stream completed).
pub fn event_stream(chunks: impl Stream<Item = Result<Vec<u8>>> + 'static) -> Answer {
    let headers = Headers::new();
    for (name, value) in ssekit_api::STREAM_HEADERS {
        let _ = headers.set(name, value);
    }
    let res = ResponseBuilder::new()
        .with_headers(headers)
        .from_stream(chunks)
        .map_err(internal)?;
    Ok(res)
}

/// `204 No Content`: the client has the terminal event, and EventSource stops on it.
pub fn no_content() -> Response {
    ResponseBuilder::new().with_status(204).empty()
}

/// Most bytes of a refused body read and thrown away before answering. A client still sending
/// when the answer comes (and the connection closes) gets a reset instead of the answer; past
/// this, it gets the reset: the Worker will not read an unbounded body for it.
const DRAIN_MAX: usize = 8 * 1024 * 1024;

/// Reads a JSON request body of at most `limit` bytes within `timeout_ms`: `415` for another
/// content type, `413` over the limit (checked as it arrives, so a huge body is never held),
/// `408` past the deadline. A refused body is still read (and dropped) up to [`DRAIN_MAX`], so
/// the client is reading when the answer comes.
pub async fn read_body(
    req: &mut Request,
    limit: usize,
    timeout_ms: u64,
) -> std::result::Result<Vec<u8>, ApiError> {
    let ct = req.headers().get("content-type").ok().flatten();
    let mut refused = ssekit_api::check_json_content_type(ct.as_deref()).err();
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|&n| n > limit) {
        if n > limit.saturating_add(DRAIN_MAX) {
            return Err(refused.unwrap_or_else(|| ssekit_api::too_large(limit)));
        }
        refused = refused.or_else(|| Some(ssekit_api::too_large(limit)));
    }
    let mut body = Vec::new();
    let Ok(mut chunks) = req.stream() else {
        return refused.map_or(Ok(body), Err); // no body
    };
    let mut deadline = Box::pin(worker::Delay::from(Duration::from_millis(timeout_ms)));
    let mut dropped = 0usize;
    loop {
        let chunk = match select(chunks.next(), deadline.as_mut()).await {
            Either::Left((Some(chunk), _)) => chunk.map_err(internal)?,
            Either::Left((None, _)) => break,
            Either::Right(_) => return Err(ApiError::body_timeout()),
        };
        if refused.is_none() && body.len() + chunk.len() > limit {
            refused = Some(ssekit_api::too_large(limit));
            dropped = body.len();
            body = Vec::new();
        }
        if refused.is_some() {
            dropped += chunk.len();
            if dropped > DRAIN_MAX {
                break;
            }
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    refused.map_or(Ok(body), Err)
}

/// Reads and drops a body that will not be used (up to [`DRAIN_MAX`], within `timeout_ms`),
/// for the same reason as [`read_body`]: the client must be reading when the answer comes.
pub async fn discard_body(req: &mut Request, timeout_ms: u64) {
    let Ok(mut chunks) = req.stream() else { return };
    let mut deadline = Box::pin(worker::Delay::from(Duration::from_millis(timeout_ms)));
    let mut dropped = 0usize;
    while dropped <= DRAIN_MAX {
        match select(chunks.next(), deadline.as_mut()).await {
            Either::Left((Some(Ok(chunk)), _)) => dropped += chunk.len(),
            _ => return,
        }
    }
}

/// Adds the CORS headers of the shared policy (`ssekit_api::cors`) to a response (into a fresh
/// header set: a response from a Durable Object has immutable headers).
pub fn with_cors(res: Response, config: &Config, origin: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in res.headers().entries() {
        headers.append(&name, &value)?;
    }
    let cors = ssekit_api::cors::headers(&config.cors_origins, origin.map(str::as_bytes), false);
    for (name, value) in cors {
        headers.set(name, &value)?;
    }
    let status = res.status_code();
    let (_, body) = res.into_parts();
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .body(body))
}

/// The answer to a CORS preflight, by the shared policy.
pub fn preflight(config: &Config, origin: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    let cors = ssekit_api::cors::headers(&config.cors_origins, origin.map(str::as_bytes), true);
    for (name, value) in cors {
        headers.set(name, &value)?;
    }
    Ok(ResponseBuilder::new().with_headers(headers).empty())
}
