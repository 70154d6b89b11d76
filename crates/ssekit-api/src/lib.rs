//! ssekit's HTTP API (DESIGN §2) without a server. The native server (axum) and the Worker
//! (workers-rs) both answer through these, so a request gets the same status, code, message and
//! body from either. One module per concept:
//!
//! - [`error`]: the catalogue of error codes, each with its status, and the error body;
//! - [`request`]: the checks every request goes through (JSON, content type, the resume
//!   position, path parameters) and a generation's parameters;
//! - [`response`]: the answers, as types (their TypeScript is generated for the web client);
//! - [`auth`]: who may do what (JWTs, tokens in requests, creation tokens);
//! - [`stream`]: a stream's kind, record and id, and the headers of an event stream;
//! - [`publish`]: the publish API's body and publish tokens;
//! - [`demo`]: the demo pipeline's document and images;
//! - [`sanitize`]: the HTML of `block-content`, cleaned before it is stored;
//! - [`openapi`]: the OpenAPI document generated from all of the above.
//!
//! The items most routes use are also at the crate root, under their own names.
//!
//! ```
//! use ssekit_api::error::{ApiError, ErrorCode};
//! use ssekit_api::request::GenerationSpec;
//!
//! let err: ApiError = GenerationSpec::from_request(serde_json::json!({}), &["demo"]).unwrap_err();
//! assert_eq!((err.status().as_u16(), err.code()), (422, ErrorCode::InvalidRequest));
//! assert_eq!(err.body(), r#"{"error":{"code":"invalid_request","message":"topic is required"}}"#);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod cors;
pub mod demo;
pub mod error;
pub mod openapi;
pub mod publish;
pub mod request;
pub mod response;
pub mod routes;
pub mod sanitize;
pub mod stream;

pub use demo::{document_html, image_svg};
pub use error::{ApiError, ErrorCode};
pub use publish::{
    check_publish_token, create_stream, idempotency_key, publish_events, publish_token,
    PublishEvent, PublishRequest, IDEMPOTENCY_KEY, IDEMPOTENCY_REPLAYED, MAX_BATCH,
    MAX_IDEMPOTENCY_KEY,
};
pub use request::{
    check_json_content_type, join_header_values, last_event_id, parse_json, path_segment,
    query_param, resume_after, stream_id, too_large, GenerationInfo, GenerationRequest,
    GenerationSpec, DEFAULT_BLOCKS, DEFAULT_DELAY_MS, DEFAULT_PIPELINE, MAX_BLOCKS, MAX_DELAY_MS,
    MAX_TOPIC,
};
pub use stream::{format_id, StreamKind, StreamMeta, ID_RANDOM_BYTES, KEEPALIVE, STREAM_HEADERS};
