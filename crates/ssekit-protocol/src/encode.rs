//! Encoding events, retry hints and comments.

use crate::error::{EncodeError, Field};

fn has_line_break_or_nul(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Checks an id can be sent: no CR, LF or NUL (they would end the field, or make
/// EventSource ignore the id).
///
/// ```
/// assert!(ssekit_protocol::validate_id("gen_a:1").is_ok());
/// assert!(ssekit_protocol::validate_id("x\nevent: evil").is_err());
/// ```
pub fn validate_id(id: &str) -> Result<(), EncodeError> {
    if has_line_break_or_nul(id) {
        return Err(EncodeError::new(Field::Id, "contains CR, LF or NUL"));
    }
    Ok(())
}

/// Checks an event name can be sent: not empty, no CR, LF or NUL.
pub fn validate_event_name(name: &str) -> Result<(), EncodeError> {
    if name.is_empty() {
        return Err(EncodeError::new(Field::Event, "is empty"));
    }
    if has_line_break_or_nul(name) {
        return Err(EncodeError::new(Field::Event, "contains CR, LF or NUL"));
    }
    Ok(())
}

/// Calls `f` with each line of `text`, split on CRLF, CR or LF as the parser splits them.
fn for_each_line(text: &str, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                f(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                f(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    f(&text[start..]);
}

/// Appends one event: an `event:` line when given, one `data:` line per line of `data`, then an
/// `id:` line when given, and the blank line that dispatches it.
///
/// The id comes last on purpose. A conformant client only takes an id when the event is
/// dispatched, so field order is nothing to it; but some clients (`@microsoft/fetch-event-source`)
/// record an id as soon as its line is read. With the id first, a connection cut anywhere inside
/// the event would leave such a client resuming after an event it never saw; with the id last,
/// only a cut exactly between the id line and the blank line can.
///
/// ```
/// let mut buf = Vec::new();
/// ssekit_protocol::encode_event(&mut buf, Some("s:1"), Some("step"), "a\nb").unwrap();
/// assert_eq!(buf, b"event: step\ndata: a\ndata: b\nid: s:1\n\n");
/// ```
pub fn encode_event(
    buf: &mut Vec<u8>,
    id: Option<&str>,
    event: Option<&str>,
    data: &str,
) -> Result<(), EncodeError> {
    if let Some(id) = id {
        validate_id(id)?;
    }
    if let Some(event) = event {
        validate_event_name(event)?;
    }
    buf.reserve(data.len() + id.map_or(0, str::len) + event.map_or(0, str::len) + 24);
    if let Some(event) = event {
        buf.extend_from_slice(b"event: ");
        buf.extend_from_slice(event.as_bytes());
        buf.push(b'\n');
    }
    for_each_line(data, |line| {
        buf.extend_from_slice(b"data: ");
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
    });
    if let Some(id) = id {
        buf.extend_from_slice(b"id: ");
        buf.extend_from_slice(id.as_bytes());
        buf.push(b'\n');
    }
    buf.push(b'\n');
    Ok(())
}

/// Appends a `retry:` hint: how long EventSource waits before reconnecting, in ms.
///
/// No blank line follows: a conformant client applies the field when it reads the line, and a
/// blank line would end an event with no data, which httpx-sse yields as an event with empty
/// data (an app calling `json.loads(event.data)` then fails).
pub fn encode_retry(buf: &mut Vec<u8>, ms: u64) {
    buf.extend_from_slice(b"retry: ");
    buf.extend_from_slice(ms.to_string().as_bytes());
    buf.push(b'\n');
}

/// Appends a comment (`: text` per line). Line breaks in `text` start new comment lines, so a
/// comment can never inject a field. No blank line follows, for the reason given at
/// [`encode_retry`]: once a stream has sent an id, httpx-sse yields a data-less event for every
/// blank line.
pub fn encode_comment(buf: &mut Vec<u8>, text: &str) {
    for_each_line(text, |line| {
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
    });
}
