//! Request extractors whose rejections are our JSON errors, not axum's plain-text ones.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use serde::de::DeserializeOwned;
use ssekit_events::EventId;

use crate::error::ApiError;

/// Reads a body of at most `limit` bytes (`413` over it); a `Content-Type`, when sent, must be JSON (`415`).
pub async fn read_body(req: Request, limit: usize) -> Result<bytes::Bytes, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("expected Content-Type: application/json, got {mime:?}"),
            ));
        }
    }
    let body: Body = req.into_body();
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    })
}

/// Parses JSON: `400` when it is not JSON, `422` when it is JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid(e.to_string()),
        _ => ApiError::invalid_json(format!("the body is not valid JSON: {e}")),
    })
}

/// Where a resuming client stands: the `Last-Event-ID` header, else `?lastEventId=`.
///
/// The header wins: a browser's automatic reconnect sends its newest id there while the URL
/// still carries the id the page opened it with. An empty value is no id.
pub struct LastEventId(pub Option<EventId>);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let header = parts.headers.get("last-event-id").map(|v| v.as_bytes());
        last_event_id(header, parts.uri.query().unwrap_or("")).map(LastEventId)
    }
}

/// Resolves a client's position from its `Last-Event-ID` header and the request's query.
pub fn last_event_id(header: Option<&[u8]>, query: &str) -> Result<Option<EventId>, ApiError> {
    let header = header
        .map(|v| std::str::from_utf8(v).map_err(|_| bad_id("the Last-Event-ID header is not text")))
        .transpose()?
        .filter(|v| !v.is_empty());
    let raw = match header {
        Some(h) => Some(h.to_owned()),
        None => query_param(query, "lastEventId").filter(|v| !v.is_empty()),
    };
    raw.map(|r| {
        r.parse::<EventId>()
            .map_err(|e| bad_id(format!("Last-Event-ID {r:?}: {e}")))
    })
    .transpose()
}

fn bad_id(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_last_event_id", message)
}

/// The first value of `name` in a query string, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
