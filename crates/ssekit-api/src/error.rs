//! Typed API errors: a status paired with a stable code and a message for people.

use http::StatusCode;

/// An error answered as `{"error":{"code":"…","message":"…"}}` with its status.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds `Retry-After: secs` (for 429 and 503).
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 400 `invalid_json`.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// 422 `invalid_request`: well-formed, but a field is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after_secs(&self) -> Option<u32> {
        self.retry_after
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        use http::{header, HeaderValue};
        let mut res = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl ApiError {
    /// 400 `invalid_last_event_id`.
    pub fn bad_last_event_id(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_last_event_id", message)
    }

    /// 409 `stream_finished`: the stream has its terminal event.
    pub fn finished() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "stream_finished",
            "the stream has ended; it takes no more events",
        )
    }

    /// 503 `store_unavailable` with `Retry-After: 1`.
    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the event store failed; try again",
        )
        .retry_after(1)
    }

    /// 410 `expired`.
    pub fn expired() -> Self {
        Self::new(
            StatusCode::GONE,
            "expired",
            "the stream has expired and its events were removed",
        )
    }

    /// 404 `not_found` for a stream id that names no stream (or cannot be one).
    pub fn unknown_stream() -> Self {
        Self::not_found("no stream with that id")
    }

    /// 404 `not_found` for a path under `/assets/` that names none of the demo page's files.
    pub fn unknown_asset() -> Self {
        Self::not_found("no such asset")
    }

    /// 409 `exists`: a stream with that id was already created.
    pub fn exists() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "exists",
            "a stream with that id exists",
        )
    }

    /// 409 `not_a_generation`: cancel was asked of a published stream.
    pub fn not_a_generation() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "not_a_generation",
            "only generations can be cancelled; a published stream ends with its publisher's terminal event",
        )
    }

    /// 409 `already_finished`: cancel was asked of a generation that has ended.
    pub fn already_finished() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "already_finished",
            "the generation has already ended",
        )
    }
}

impl ApiError {
    /// 429 `rate_limited` with `Retry-After: secs` (at least 1): a client created streams
    /// faster than the server allows.
    pub fn rate_limited(secs: u32) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many streams created from this address; retry after Retry-After seconds",
        )
        .retry_after(secs.max(1))
    }
}
