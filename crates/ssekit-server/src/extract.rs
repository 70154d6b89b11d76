//! Request extractors whose rejections are our JSON errors, not axum's plain-text ones. The
//! checks themselves are ssekit-api's, shared with the Worker.

use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::{header, request::Parts};
use ssekit_events::EventId;

use crate::error::ApiError;
use crate::Config;
pub use ssekit_api::{last_event_id, parse_json};

/// Reads a body of at most `max_body` bytes (`413` over it) that must arrive within
/// `body_timeout` (`408` after it, and the connection closes: hyper does not wait for the rest of
/// a body nobody reads); a `Content-Type`, when sent, must be JSON (`415`).
pub async fn read_body(req: Request, config: &Config) -> Result<bytes::Bytes, ApiError> {
    let ct = req.headers().get(header::CONTENT_TYPE);
    ssekit_api::check_json_content_type(ct.map(|v| v.to_str().unwrap_or("")))?;
    let body: Body = req.into_body();
    let limit = config.max_body;
    match tokio::time::timeout(config.body_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(read) => read.map_err(|_| ssekit_api::too_large(limit)),
        Err(_) => Err(ApiError::body_timeout()),
    }
}

/// The parameters of a route's path (`{id}`, `{file}`…), in order, each percent-decoded once.
/// One that does not decode to UTF-8 names no stream: `404` `not_found`, as JSON (axum's own
/// `Path` answers a plain-text `400`). The fast path and the Worker decode the same way
/// (`ssekit_api::routes::Route::recognize`).
pub struct PathParams(pub Vec<String>);

impl PathParams {
    /// The first parameter.
    pub fn first(self) -> String {
        self.0.into_iter().next().unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::unknown_stream())?;
        Ok(Self(raw.iter().map(|(_, v)| v.to_owned()).collect()))
    }
}

/// Where a resuming client stands: the `Last-Event-ID` header, else `?lastEventId=`
/// (see [`last_event_id`]).
pub struct LastEventId(pub Option<EventId>);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Repeated lines are joined, then refused, on every front end (the fast path joins them
        // too): taking the first or the last would resume the same request at two positions.
        let values = parts.headers.get_all("last-event-id");
        let header = ssekit_api::join_header_values(values.iter().map(|v| v.as_bytes()));
        last_event_id(header.as_deref(), parts.uri.query().unwrap_or("")).map(LastEventId)
    }
}

/// Whether a stream's response may say `Connection: keep-alive`: only to an HTTP/1.1 request
/// that did not ask to close (an HTTP/1.0 stream ends with the close; hyper itself answers a
/// `Connection: close` request with `close`), as the fast path decides.
pub struct KeepAlive(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for KeepAlive {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let close = parts
            .headers
            .get_all(header::CONNECTION)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"));
        Ok(Self(
            parts.version == axum::http::Version::HTTP_11 && !close,
        ))
    }
}
