//! What a request asks for: JSON bodies, the resume position, a generation's parameters.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ssekit_events::EventId;
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorCode};
use crate::stream::StreamMeta;

/// Longest topic, in characters.
pub const MAX_TOPIC: usize = 500;
/// The pipeline a generation runs when its request names none.
pub const DEFAULT_PIPELINE: &str = "demo";
/// The content blocks of a generation whose request says nothing.
pub const DEFAULT_BLOCKS: u32 = 6;
/// Most content blocks of a generation.
pub const MAX_BLOCKS: u32 = 50;
/// The pause between events of a generation whose request says nothing, ms.
pub const DEFAULT_DELAY_MS: u64 = 150;
/// Longest pause between events, ms.
pub const MAX_DELAY_MS: u64 = 10_000;

/// The body of `POST /v1/generations` (and the query of `GET /v1/generate`), as a type for
/// clients and the OpenAPI document. The server checks a request field by field
/// ([`GenerationSpec::from_request`]) so that each mistake gets its own message; other fields
/// are passed to `exec` pipelines untouched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
#[ts(export)]
pub struct GenerationRequest {
    /// What the generation is about: 1–500 characters (trimmed).
    #[schema(min_length = 1, max_length = 500)]
    #[param(min_length = 1, max_length = 500)]
    pub topic: String,
    /// The pipeline to run (`demo` unless the server runs others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[schema(default = "demo")]
    #[param(default = "demo")]
    pub pipeline: Option<String>,
    /// Content blocks, 1–50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[schema(minimum = 1, maximum = 50, default = 6)]
    #[param(minimum = 1, maximum = 50, default = 6)]
    pub blocks: Option<u32>,
    /// Pause between events, 0–10000 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    #[schema(minimum = 0, maximum = 10000, default = 150)]
    #[param(minimum = 0, maximum = 10000, default = 150)]
    pub delay_ms: Option<u64>,
}

/// What a generation's stream keeps of its request (its metadata's `info`), read back by the
/// pipelines and the images; a field missing from an old record takes the request's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GenerationInfo {
    /// Content blocks.
    pub blocks: u32,
    /// Pause between events, ms.
    pub delay_ms: u64,
    /// The pipeline.
    pub pipeline: String,
    /// What the generation is about.
    pub topic: String,
}

impl Default for GenerationInfo {
    fn default() -> Self {
        Self {
            blocks: DEFAULT_BLOCKS,
            delay_ms: DEFAULT_DELAY_MS,
            pipeline: DEFAULT_PIPELINE.to_owned(),
            topic: String::new(),
        }
    }
}

impl GenerationInfo {
    /// The generation's request, from its stream's record.
    pub fn of(meta: &StreamMeta) -> Self {
        serde_json::from_value(meta.info.clone()).unwrap_or_default()
    }
}

/// Parses JSON: `400` when it is not JSON, `422` when it is JSON of the wrong shape.
///
/// ```
/// let err = ssekit_api::parse_json::<serde_json::Value>(b"{").unwrap_err();
/// assert_eq!(err.code(), ssekit_api::ErrorCode::InvalidJson);
/// ```
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid(e.to_string()),
        _ => ApiError::invalid_json(format!("the body is not valid JSON: {e}")),
    })
}

/// A request body's `Content-Type`, when sent, must be JSON (`415`).
pub fn check_json_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    let Some(ct) = content_type else {
        return Ok(());
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("expected Content-Type: application/json, got {mime:?}"),
        ))
    }
}

/// `413`: the body is over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the request body is larger than {limit} bytes"),
    )
}

/// Resolves a client's position from its `Last-Event-ID` header and the request's query.
///
/// The header wins: a browser's automatic reconnect sends its newest id there while the URL
/// still carries the id the page opened it with. An empty value is no id.
///
/// A request that repeats the header reaches here as one value joined with `", "` (HTTP's rule
/// for combining field lines, and what the Worker's runtime does before we see it): since no
/// event id holds a comma, several ids are refused rather than one of them picked — every front
/// end then answers the same request the same way.
///
/// ```
/// let id = ssekit_api::last_event_id(None, "lastEventId=gen_a%3A3").unwrap().unwrap();
/// assert_eq!((id.stream(), id.seq()), ("gen_a", 3));
/// let header = ssekit_api::last_event_id(Some(b"gen_a:5"), "lastEventId=gen_a:3").unwrap();
/// assert_eq!(header.unwrap().seq(), 5);
/// let twice = ssekit_api::last_event_id(Some(b"gen_a:5, gen_a:3"), "").unwrap_err();
/// assert_eq!(twice.code(), ssekit_api::ErrorCode::InvalidLastEventId);
/// ```
pub fn last_event_id(header: Option<&[u8]>, query: &str) -> Result<Option<EventId>, ApiError> {
    let header = header
        .map(|v| {
            std::str::from_utf8(v)
                .map_err(|_| ApiError::bad_last_event_id("the Last-Event-ID header is not text"))
        })
        .transpose()?
        .filter(|v| !v.is_empty());
    if header.is_some_and(|h| h.contains(',')) {
        return Err(ApiError::bad_last_event_id(
            "several Last-Event-ID values were sent; send one",
        ));
    }
    let raw = match header {
        Some(h) => Some(h.to_owned()),
        None => query_param(query, "lastEventId").filter(|v| !v.is_empty()),
    };
    raw.map(|r| {
        r.parse::<EventId>().map_err(|e| {
            ApiError::bad_last_event_id(format!("Last-Event-ID {}: {e}", quote_capped(&r)))
        })
    })
    .transpose()
}

/// Joins the values of a header sent several times with `", "`, as HTTP combines field lines;
/// `None` when it was not sent. Every front end reads `Last-Event-ID` through this.
pub fn join_header_values<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for v in values {
        match &mut out {
            None => out = Some(v.to_vec()),
            Some(joined) => {
                joined.extend_from_slice(b", ");
                joined.extend_from_slice(v);
            }
        }
    }
    out
}

/// Most characters of a client's value an error message repeats.
const ECHO_MAX: usize = 64;

/// `value` quoted for an error message, cut after [`ECHO_MAX`] characters: an error must not
/// echo a 10 KB header back.
fn quote_capped(value: &str) -> String {
    match value.char_indices().nth(ECHO_MAX) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &value[..cut], value.len()),
    }
}

/// The sequence number a subscriber of stream `id` resumes after, given the stream's last one:
/// an id of another stream, or one ahead of the stream, is a `400`.
pub fn resume_after(id: &str, after: Option<&EventId>, last_seq: u64) -> Result<u64, ApiError> {
    match after {
        None => Ok(0),
        Some(eid) if eid.stream() != id => Err(ApiError::bad_last_event_id(format!(
            "Last-Event-ID {eid} belongs to another stream"
        ))),
        Some(eid) if eid.seq() > last_seq => Err(ApiError::bad_last_event_id(format!(
            "Last-Event-ID {eid} is ahead of the stream (its last event is {last_seq})"
        ))),
        Some(eid) => Ok(eid.seq()),
    }
}

/// The first value of `name` in a query string, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A stream id from a path: anything that cannot be one is simply not found.
pub fn stream_id(id: &str) -> Result<&str, ApiError> {
    ssekit_events::validate_stream_id(id).map_err(|_| ApiError::unknown_stream())?;
    Ok(id)
}

/// A path segment as the client sent it (percent-encoded), decoded once, as every front end
/// does before routing on it: `gen%5Fa` is `gen_a`. `None` when it does not decode to UTF-8
/// text, which no id or file name can be.
///
/// ```
/// assert_eq!(ssekit_api::path_segment("gen%5Fa").as_deref(), Some("gen_a"));
/// assert_eq!(ssekit_api::path_segment("%ff"), None);
/// ```
pub fn path_segment(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// A validated generation request.
///
/// ```
/// use ssekit_api::GenerationSpec;
///
/// let spec = GenerationSpec::from_request(serde_json::json!({"topic": " owls ", "blocks": 2}), &["demo"]).unwrap();
/// assert_eq!((spec.topic.as_str(), spec.blocks, spec.delay_ms), ("owls", 2, 150));
/// let err = GenerationSpec::from_request(serde_json::json!({"topic": "owls", "blocks": 0}), &["demo"]).unwrap_err();
/// assert_eq!(err.status(), 422);
/// ```
#[derive(Debug, Clone)]
pub struct GenerationSpec {
    /// What the generation is about.
    pub topic: String,
    /// `demo` or the name of another pipeline the server runs.
    pub pipeline: String,
    /// Content blocks, 1–50.
    pub blocks: u32,
    /// Pause between events, ms.
    pub delay_ms: u64,
    /// The request as sent (an `exec` pipeline receives it on stdin).
    pub request: Map<String, Value>,
}

fn int_field(
    req: &Map<String, Value>,
    name: &str,
    min: u64,
    max: u64,
    default: u64,
) -> Result<u64, ApiError> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(format!("{name} must be a whole number from {min} to {max}"))
            }),
    }
}

impl GenerationSpec {
    /// Validates a request body (or the one-shot endpoint's query, as JSON) for a server that
    /// runs `pipelines`.
    pub fn from_request(request: Value, pipelines: &[&str]) -> Result<Self, ApiError> {
        let Value::Object(request) = request else {
            return Err(ApiError::invalid("the body must be a JSON object"));
        };
        let topic = match request.get("topic") {
            Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
            Some(Value::String(_)) | None => return Err(ApiError::invalid("topic is required")),
            Some(_) => return Err(ApiError::invalid("topic must be a string")),
        };
        if topic.chars().count() > MAX_TOPIC {
            return Err(ApiError::invalid(format!(
                "topic is longer than {MAX_TOPIC} characters"
            )));
        }
        let pipeline = match request.get("pipeline") {
            None | Some(Value::Null) => DEFAULT_PIPELINE.to_owned(),
            Some(Value::String(p)) => p.clone(),
            Some(_) => return Err(ApiError::invalid("pipeline must be a string")),
        };
        if !pipelines.contains(&pipeline.as_str()) {
            return Err(ApiError::new(
                ErrorCode::UnknownPipeline,
                format!(
                    "no pipeline {pipeline:?}; this server runs: {}",
                    pipelines.join(", ")
                ),
            ));
        }
        Ok(Self {
            blocks: int_field(
                &request,
                "blocks",
                1,
                MAX_BLOCKS.into(),
                DEFAULT_BLOCKS.into(),
            )? as u32,
            delay_ms: int_field(&request, "delayMs", 0, MAX_DELAY_MS, DEFAULT_DELAY_MS)?,
            topic,
            pipeline,
            request,
        })
    }

    /// What a generation's stream keeps of its request (its metadata's `info`).
    pub fn info(&self) -> Value {
        serde_json::to_value(GenerationInfo {
            blocks: self.blocks,
            delay_ms: self.delay_ms,
            pipeline: self.pipeline.clone(),
            topic: self.topic.clone(),
        })
        .expect("a generation's info serializes")
    }

    /// The one-shot endpoint's query (`topic`, `pipeline`, `blocks`, `delayMs`) as a request.
    pub fn from_query(query: &str, pipelines: &[&str]) -> Result<Self, ApiError> {
        let mut request = Map::new();
        for (name, numeric) in [
            ("topic", false),
            ("pipeline", false),
            ("blocks", true),
            ("delayMs", true),
        ] {
            let Some(value) = query_param(query, name) else {
                continue;
            };
            let value = if numeric {
                let n: u64 = value.parse().map_err(|_| {
                    ApiError::invalid(format!("{name} must be a whole number, got {value:?}"))
                })?;
                Value::from(n)
            } else {
                Value::from(value)
            };
            request.insert(name.to_owned(), value);
        }
        Self::from_request(Value::Object(request), pipelines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_repeats_at_most_a_few_dozen_characters_of_a_hostile_id() {
        let huge = "x".repeat(10_000);
        let err = last_event_id(Some(huge.as_bytes()), "").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidLastEventId);
        assert!(err.body().len() < 300, "{}", err.body());
        let from_query = last_event_id(None, &format!("lastEventId={huge}")).unwrap_err();
        assert!(from_query.body().len() < 300);
    }

    #[test]
    fn repeated_headers_are_joined_then_refused() {
        let joined = join_header_values([&b"s:1"[..], &b"s:2"[..]]).unwrap();
        assert_eq!(joined, b"s:1, s:2");
        let err = last_event_id(Some(&joined), "").unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.body(),
            r#"{"error":{"code":"invalid_last_event_id","message":"several Last-Event-ID values were sent; send one"}}"#
        );
        assert_eq!(join_header_values(std::iter::empty()), None);
        assert_eq!(join_header_values([&b"s:1"[..]]).unwrap(), b"s:1");
    }

    #[test]
    fn path_segments_decode_once() {
        assert_eq!(path_segment("gen%5Fa").as_deref(), Some("gen_a"));
        assert_eq!(path_segment("a%2525").as_deref(), Some("a%25"));
        // A decoded slash is no id; bytes that are not UTF-8 are no segment at all.
        assert_eq!(
            stream_id(&path_segment("gen%2Fa").unwrap())
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(path_segment("%ff%fe"), None);
    }
}
