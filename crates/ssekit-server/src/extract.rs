//! Request extractors whose rejections are our JSON errors, not axum's plain-text ones. The
//! checks themselves are ssekit-api's, shared with the Worker.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, request::Parts};
use ssekit_events::EventId;

use crate::error::ApiError;
pub use ssekit_api::{last_event_id, parse_json};

/// Reads a body of at most `limit` bytes (`413` over it); a `Content-Type`, when sent, must be JSON (`415`).
pub async fn read_body(req: Request, limit: usize) -> Result<bytes::Bytes, ApiError> {
    let ct = req.headers().get(header::CONTENT_TYPE);
    ssekit_api::check_json_content_type(ct.map(|v| v.to_str().unwrap_or("")))?;
    let body: Body = req.into_body();
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ssekit_api::too_large(limit))
}

/// Where a resuming client stands: the `Last-Event-ID` header, else `?lastEventId=`
/// (see [`last_event_id`]).
pub struct LastEventId(pub Option<EventId>);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let header = parts.headers.get("last-event-id").map(|v| v.as_bytes());
        last_event_id(header, parts.uri.query().unwrap_or("")).map(LastEventId)
    }
}
