//! What a stream is: its kind and metadata, its id, and the headers and keep-alive of its
//! event stream.

use serde::{Deserialize, Serialize};
use ssekit_events::StreamStatus;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::error::ApiError;

/// What kind of stream: one the server runs a pipeline for, or one an outside backend publishes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum StreamKind {
    /// A generation run by one of the server's pipelines.
    Generation,
    /// A stream fed through the publish API.
    Published,
}

impl StreamKind {
    /// `generation` or `published`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Generation => "generation",
            StreamKind::Published => "published",
        }
    }

    /// The kind named `s` (anything but `published` is a generation).
    pub fn parse(s: &str) -> Self {
        if s == "published" {
            StreamKind::Published
        } else {
            StreamKind::Generation
        }
    }
}

/// A stream's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamMeta {
    /// The stream id.
    pub id: String,
    /// Generation or published.
    pub kind: StreamKind,
    /// Free-form JSON the routes keep with the stream (the request, the publish token).
    pub info: serde_json::Value,
    /// Creation time, ms since the Unix epoch.
    pub created_at: u64,
    /// The position of the last event (0: none yet).
    pub last_seq: u64,
    /// Running, or how it ended.
    pub status: StreamStatus,
    /// When it ended, ms since the Unix epoch.
    pub finished_at: Option<u64>,
    /// Removed by retention: its events are gone, its id is remembered so clients get 410.
    pub expired: bool,
}

impl StreamMeta {
    /// A new, empty, running stream.
    pub fn new(id: String, kind: StreamKind, info: serde_json::Value, created_at: u64) -> Self {
        Self {
            id,
            kind,
            info,
            created_at,
            last_seq: 0,
            status: StreamStatus::Running,
            finished_at: None,
            expired: false,
        }
    }

    /// Whether the stream has ended (its last event is terminal).
    pub fn finished(&self) -> bool {
        self.status != StreamStatus::Running
    }

    /// Checks that `DELETE /v1/generations/{id}` may cancel this stream: only generations can.
    /// (A generation that has ended answers [`ApiError::already_finished`] when its cancel
    /// event is refused.)
    pub fn check_cancellable(&self) -> Result<(), ApiError> {
        if self.kind == StreamKind::Generation {
            Ok(())
        } else {
            Err(ApiError::not_a_generation())
        }
    }
}

/// Bytes of randomness in an id made by [`format_id`]: 20 base-36 characters, over 100 bits.
pub const ID_RANDOM_BYTES: usize = 20;

/// A new id: `prefix` then one lowercase base-36 character per random byte. The caller brings
/// the randomness (the native server and the Worker have different sources).
///
/// ```
/// assert_eq!(ssekit_api::format_id("gen_", &[0, 35, 36, 255]), "gen_0z03");
/// ```
pub fn format_id(prefix: &str, random: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut id = String::with_capacity(prefix.len() + random.len());
    id.push_str(prefix);
    // 256 = 7 × 36 + 4: the modulo picks the first 4 characters 8 times in 256, the others 7.
    // That costs 0.002 bits per character (0.04 of the id's ~103 bits) and keeps the code obvious.
    id.extend(
        random
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char),
    );
    id
}

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
