//! The publish API's body: `{event, data}` or `{events: [{event, data}, …]}`, checked and
//! sanitized, and the publish token check.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ssekit_events::Event;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::request::parse_json;
use crate::response::StreamCreated;
use crate::sanitize;
use crate::stream::{StreamKind, StreamMeta};

/// One event as a publisher sends it: a name of the vocabulary, or an application event's
/// (`namespace.name`), and its data (checked against the vocabulary's payload for built-in
/// events; any JSON value for application events; missing is `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PublishEvent {
    /// The event's name.
    #[schema(max_length = 64, example = "block-content")]
    pub event: String,
    /// The event's data.
    #[serde(default)]
    #[ts(type = "unknown")]
    pub data: Value,
}

/// The body of `POST /v1/streams/{id}/events`: one event, or a batch of at most 256 (a
/// terminal event only last). The server reads it with `publish_events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(untagged)]
#[ts(export)]
pub enum PublishRequest {
    /// `{"events": [{event, data}, …]}`
    Batch {
        /// The events, in order.
        #[schema(min_items = 1, max_items = 256)]
        events: Vec<PublishEvent>,
    },
    /// `{event, data}`
    One(PublishEvent),
}

/// Most events one request (or one append) may carry.
pub const MAX_BATCH: usize = 256;

/// The events of a publish request's body, in order, their HTML sanitized: events of the
/// vocabulary, checked against their payload types, and application events (`namespace.name`,
/// any JSON data, see [`ssekit_events::AppName`]), carried as they are.
///
/// ```
/// let events = ssekit_api::publish_events(br#"{"events":[
///     {"event":"block-content","data":{"blockIndex":0,"html":"<p onclick=x()>hi</p>"}},
///     {"event":"generation-complete","data":{"success":true,"totalDuration":5}}]}"#).unwrap();
/// assert_eq!(events.len(), 2);
/// assert!(events[0].data_json().contains(r#""html":"<p>hi</p>""#));
/// ```
pub fn publish_events(body: &[u8]) -> Result<Vec<Event>, ApiError> {
    let mut v: Value = parse_json(body)?;
    let events = match v.get_mut("events").map(Value::take) {
        Some(Value::Array(list)) => list
            .into_iter()
            .map(event_of)
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(ApiError::invalid("\"events\" must be an array")),
        None => vec![event_of(v)?],
    };
    if events.is_empty() {
        return Err(ApiError::invalid("no events to publish"));
    }
    if events.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "at most {MAX_BATCH} events per request"
        )));
    }
    if events.iter().rev().skip(1).any(Event::is_terminal) {
        return Err(ApiError::invalid(
            "a terminal event must be the last of a batch",
        ));
    }
    Ok(events)
}

/// The request header that makes a publish idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The answer header saying a publish was a retry: its events were stored by the first request
/// with the same key, and nothing was appended now.
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";
/// The longest `Idempotency-Key`, in bytes.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key` of a publish, from the header's values as received (none: no key):
/// 1–255 bytes of visible ASCII (0x21–0x7E), sent once; anything else is
/// `400 invalid_idempotency_key`. A front end that joins repeated headers (the Worker's runtime
/// joins them with `", "`) passes the joined value: its space refuses it as well.
///
/// ```
/// use ssekit_api::idempotency_key;
/// assert_eq!(idempotency_key(&[]).unwrap(), None);
/// assert_eq!(idempotency_key(&[b"order-17"]).unwrap(), Some("order-17"));
/// for bad in [&b""[..], b"a b", b"caf\xc3\xa9", b"tab\t", &[b'k'; 256]] {
///     assert_eq!(idempotency_key(&[bad]).unwrap_err().status(), 400);
/// }
/// assert_eq!(idempotency_key(&[b"a", b"a"]).unwrap_err().status(), 400);
/// ```
pub fn idempotency_key<'a>(values: &[&'a [u8]]) -> Result<Option<&'a str>, ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidIdempotencyKey,
            format!("Idempotency-Key {why}: 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters (0x21-0x7E), sent once"),
        )
    };
    let value = match values {
        [] => return Ok(None),
        [one] => *one,
        _ => return Err(bad("sent several times")),
    };
    if value.is_empty() {
        return Err(bad("is empty"));
    }
    if value.len() > MAX_IDEMPOTENCY_KEY {
        return Err(bad("is too long"));
    }
    if !value.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(bad("has a character that is not visible ASCII"));
    }
    Ok(Some(
        std::str::from_utf8(value).expect("visible ASCII is UTF-8"),
    ))
}

/// One event as a publisher sends it.
fn event_of(v: Value) -> Result<Event, ApiError> {
    let Value::Object(mut obj) = v else {
        return Err(ApiError::invalid(
            "an event is an object {\"event\": NAME, \"data\": {…}}",
        ));
    };
    let name = match obj.remove("event") {
        Some(Value::String(s)) => s,
        _ => return Err(ApiError::invalid("an event needs a string field \"event\"")),
    };
    let data = obj.remove("data").unwrap_or(Value::Null);
    let mut event = Event::from_value(&name, data).map_err(|e| ApiError::invalid(e.to_string()))?;
    sanitize::sanitize(&mut event);
    Ok(event)
}

/// Checks `Authorization: Bearer TOKEN` against the stream's publish token: `401` without one,
/// `403` for another. A stream without a publish token (a generation, written by its pipeline)
/// matches nothing, not even an empty bearer. The `403` carries no `WWW-Authenticate`: a
/// publish token is one stream's capability, not a token whose rights could be wider, so
/// `insufficient_scope` (RFC 6750 §3.1) would send the client after a token that does not exist.
///
/// ```
/// use ssekit_api::check_publish_token;
/// assert!(check_publish_token(Some("Bearer pub_1"), "pub_1").is_ok());
/// assert_eq!(check_publish_token(None, "pub_1").unwrap_err().status(), 401);
/// let wrong = check_publish_token(Some("Bearer pub_2"), "pub_1").unwrap_err();
/// assert_eq!((wrong.status().as_u16(), wrong.www_authenticate()), (403, None));
/// assert_eq!(check_publish_token(Some("Bearer "), "").unwrap_err().status(), 403);
/// ```
pub fn check_publish_token(authorization: Option<&str>, token: &str) -> Result<(), ApiError> {
    let presented = authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "publishing needs Authorization: Bearer <publishToken>",
            )
        })?;
    if !token.is_empty() && same(token.as_bytes(), presented.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "that publish token is not this stream's",
        ))
    }
}

/// Compares without stopping at the first difference, so timing tells nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /v1/streams`: checks the body (empty, or a JSON object) and makes the new stream's
/// record and the `201` answer, from a fresh id and publish token (see [`format_id`]).
///
/// [`format_id`]: crate::stream::format_id
///
/// ```
/// let (meta, answer) = ssekit_api::create_stream(b"{}", "str_1".into(), "pub_1".into(), 0).unwrap();
/// assert_eq!(meta.info["publishToken"], "pub_1");
/// assert_eq!(answer.publish_url, "/v1/streams/str_1/events");
/// assert_eq!(ssekit_api::create_stream(b"[]", "str_1".into(), "pub_1".into(), 0).unwrap_err().status(), 422);
/// ```
pub fn create_stream(
    body: &[u8],
    id: String,
    token: String,
    now_ms: u64,
) -> Result<(StreamMeta, StreamCreated), ApiError> {
    if !body.is_empty() {
        let v: Value = parse_json(body)?;
        if !v.is_object() {
            return Err(ApiError::invalid("the body must be a JSON object"));
        }
    }
    let answer = StreamCreated::new(&id, &token);
    let meta = StreamMeta::new(
        id,
        StreamKind::Published,
        json!({ "publishToken": token }),
        now_ms,
    );
    Ok((meta, answer))
}

/// The stream's publish token, from its record (empty if it has none: see [`check_publish_token`]).
pub fn publish_token(meta: &StreamMeta) -> &str {
    meta.info
        .get("publishToken")
        .and_then(Value::as_str)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_events_are_published_beside_built_in_ones() {
        let events = publish_events(
            br#"{"events":[
                {"event":"import.progress","data":{"done":1,"total":2}},
                {"event":"reasoning-step","data":{"step":1,"content":"x"}},
                {"event":"import.rows","data":[1,"two",null]},
                {"event":"import.note","data":"<b>kept as data, not HTML</b>"},
                {"event":"import.ping"},
                {"event":"generation-complete","data":{"success":true,"totalDuration":5}}]}"#,
        )
        .unwrap();
        let names: Vec<&str> = events.iter().map(Event::name).collect();
        assert_eq!(
            names,
            [
                "import.progress",
                "reasoning-step",
                "import.rows",
                "import.note",
                "import.ping",
                "generation-complete"
            ]
        );
        assert_eq!(events[2].data_json(), r#"[1,"two",null]"#);
        assert_eq!(events[3].data_json(), r#""<b>kept as data, not HTML</b>""#);
        assert_eq!(events[4].data_json(), "null");
        // Nothing follows a terminal event, not even an application event.
        let err = publish_events(
            br#"{"events":[
                {"event":"generation-complete","data":{"success":true,"totalDuration":5}},
                {"event":"import.progress","data":{}}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.status(), 422);
    }

    #[test]
    fn other_names_are_refused_naming_the_rule() {
        for name in [
            "progress",
            "Import.progress",
            "import progress.x",
            "import.progress\nid: 9",
            "import:progress.x",
            "import.",
        ] {
            let body = serde_json::to_vec(&json!({"event": name, "data": {}})).unwrap();
            let err = publish_events(&body).unwrap_err();
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (422, ErrorCode::InvalidRequest),
                "{name:?}"
            );
            assert!(err.body().contains("namespace.name"), "{}", err.body());
        }
    }

    #[test]
    fn numbers_read_back_as_they_were_sent() {
        // The stored JSON is read again (snapshots, replays, another store): a number must parse
        // to the one it was written from, or a replay differs from the live event (fuzz: publish).
        let body =
            br#"{"event":"a.b","data":{"n":88888888888888888888888888888888888888888880,"f":0.1}}"#;
        let first = publish_events(body).unwrap();
        let data = first[0].data_json();
        let again =
            publish_events(format!(r#"{{"event":"a.b","data":{data}}}"#).as_bytes()).unwrap();
        assert_eq!(again, first);
        assert_eq!(again[0].data_json(), data);
    }
}
