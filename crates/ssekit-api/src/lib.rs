//! ssekit's HTTP API (DESIGN §2) without a server: the JSON errors, the checks every request
//! goes through, the resume position, and the publish body. The native server (axum) and the
//! Worker (workers-rs) both answer through these, so a bad request gets the same status, code
//! and message from either.
//!
//! ```
//! use ssekit_api::{ApiError, GenerationSpec};
//!
//! let err: ApiError = GenerationSpec::from_request(serde_json::json!({}), &["demo"]).unwrap_err();
//! assert_eq!(err.status(), 422);
//! assert_eq!(err.body(), r#"{"error":{"code":"invalid_request","message":"topic is required"}}"#);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod cors;
mod error;
mod publish;
mod request;
pub mod routes;
pub mod sanitize;
mod stream;

pub use error::ApiError;
pub use publish::{
    check_publish_token, create_stream, publish_events, publish_token, published, MAX_BATCH,
};
pub use request::{
    check_json_content_type, join_header_values, last_event_id, parse_json, path_segment,
    query_param, resume_after, stream_id, stream_id_in_path, too_large, urls, GenerationSpec,
    MAX_TOPIC,
};
pub use stream::{
    cancelled, document_html, format_id, image_svg, snapshot_body, StreamKind, StreamMeta,
    ID_RANDOM_BYTES,
};

/// The response headers of every event stream, besides CORS. No `Connection`: only an HTTP/1.1
/// response may say `keep-alive` (an HTTP/1.0 stream ends by closing the connection), so each
/// front end adds it by the request's version; the Worker's runtime manages it alone.
pub const STREAM_HEADERS: &[(&str, &str)] = &[
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    // nginx (and proxies that follow it) would otherwise buffer the whole response.
    ("x-accel-buffering", "no"),
];

/// The keep-alive comment: proxies see bytes and keep the connection open. No blank line
/// follows it: once a stream has sent an id, httpx-sse yields an empty-data event for every
/// blank line (see `ssekit_protocol::encode_comment`).
pub const KEEPALIVE: &[u8] = b": keep-alive\n";
