use std::fmt;
use std::str::FromStr;

/// Longest stream id accepted, in bytes.
const MAX_STREAM_ID: usize = 64;

/// The id of one event: its stream and its position there (`{stream}:{seq}`, seq from 1).
///
/// The stream is part of the id so that an id alone says where a client stands: the one-shot
/// endpoint resumes the generation its `Last-Event-ID` names, and an id from another stream is
/// refused instead of silently skipping events.
///
/// ```
/// use ssekit_events::EventId;
/// let id = EventId::new("gen_x", 3).unwrap();
/// assert_eq!(id.to_string(), "gen_x:3");
/// assert!("gen_x:3\n".parse::<EventId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId {
    stream: String,
    seq: u64,
}

/// Why a stream id or an event id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The stream id is empty, too long, or has a character outside `[A-Za-z0-9_-]`.
    #[error("a stream id is 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'")]
    InvalidStream,
    /// The event id is not `{stream}:{seq}` with a decimal seq.
    #[error("an event id has the form {{stream}}:{{seq}}")]
    Malformed,
}

/// Checks that `id` is a valid stream id: 1 to 64 characters of `[A-Za-z0-9_-]`.
///
/// The narrow alphabet keeps ids safe in URLs, SSE fields, file names and storage keys.
pub fn validate_stream_id(id: &str) -> Result<(), IdError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_STREAM_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(IdError::InvalidStream)
    }
}

impl EventId {
    /// An id for position `seq` of `stream`.
    pub fn new(stream: impl Into<String>, seq: u64) -> Result<Self, IdError> {
        let stream = stream.into();
        validate_stream_id(&stream)?;
        Ok(Self { stream, seq })
    }

    /// The stream this event belongs to.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The event's position in its stream (1 for the first event; 0 means "before the first").
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.stream, self.seq)
    }
}

impl FromStr for EventId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (stream, seq) = s.rsplit_once(':').ok_or(IdError::Malformed)?;
        // Digits only: `u64::from_str` would also take a leading '+'.
        if seq.is_empty() || seq.len() > 19 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Malformed);
        }
        let seq = seq.parse().map_err(|_| IdError::Malformed)?;
        Self::new(stream, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let id: EventId = "gen_ab-C9:42".parse().unwrap();
        assert_eq!(id.stream(), "gen_ab-C9");
        assert_eq!(id.seq(), 42);
        assert_eq!(id.to_string(), "gen_ab-C9:42");
    }

    #[test]
    fn refuses_hostile_and_malformed_ids() {
        for bad in [
            "",
            ":1",
            "abc",
            "abc:",
            "abc:+1",
            "abc:-1",
            "abc:1x",
            "a b:1",
            "a\n:1",
            "abc:1\n",
            "a/b:1",
            "abc:99999999999999999999",
            &format!("{}:1", "a".repeat(65)),
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?} was accepted");
        }
    }
}
