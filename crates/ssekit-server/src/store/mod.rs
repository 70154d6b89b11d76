//! Append-only event logs, one per stream.
//!
//! A [`Store`] assigns each appended event its position, makes it durable, and only then hands it
//! to live subscribers — so an event a browser has received is always one the store can replay.
//! `memory` and `sqlite` live here; a Redis Streams backend implements the same trait.

mod hub;
mod memory;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ssekit_events::{Event, EventKind, StreamStatus};
use tokio::sync::broadcast;

pub use hub::Hub;

/// Expired streams are remembered (so their ids answer 410, not 404) this long after expiring.
const TOMBSTONE_MS: u64 = 7 * 24 * 3600 * 1000;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;
pub use ssekit_api::{StreamKind, StreamMeta};

/// The events of one append, in order: what the live ring carries, one entry per append.
pub type Appended = Arc<[Arc<StoredEvent>]>;

/// One stored event, encoded once: every subscriber is sent the same bytes.
#[derive(Debug)]
pub struct StoredEvent {
    /// Position in the stream, from 1.
    pub seq: u64,
    /// The event's name: one of the vocabulary, or an application event's.
    pub kind: EventKind,
    /// Whether the event ends the stream.
    pub terminal: bool,
    /// The whole SSE frame: `id:`, `event:`, `data:` lines and the blank line.
    pub frame: Bytes,
    /// The JSON payload (a slice of `frame`, no copy).
    pub data: Bytes,
}

impl StoredEvent {
    /// Encodes an event of `stream` at `seq`.
    pub fn encode(stream: &str, seq: u64, kind: EventKind, data: &str, terminal: bool) -> Self {
        let mut id = String::with_capacity(stream.len() + 21);
        id.push_str(stream);
        id.push(':');
        id.push_str(itoa::Buffer::new().format(seq));
        let mut buf = Vec::with_capacity(id.len() + kind.as_str().len() + data.len() + 24);
        // Ids are built from validated stream ids, names are the vocabulary's or follow the
        // application event rule (no space, colon or line break), and the payload is one line of
        // compact JSON: encoding cannot fail.
        ssekit_protocol::encode_event(&mut buf, Some(&id), Some(kind.as_str()), data)
            .expect("stream ids and event names are validated");
        let frame = Bytes::from(buf);
        // The frame is "event: {kind}\ndata: {json}\nid: {id}\n\n": the payload follows the
        // event line and the "data: " prefix.
        let start = "event: ".len() + kind.as_str().len() + "\ndata: ".len();
        let data = frame.slice(start..start + data.len());
        Self {
            seq,
            kind,
            terminal,
            frame,
            data,
        }
    }

    /// The typed event (parsed again from the stored payload).
    pub fn event(&self) -> Result<Event, StoreError> {
        let data =
            std::str::from_utf8(&self.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Event::from_parts(self.kind.as_str(), data).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No stream with that id.
    #[error("no such stream")]
    NotFound,
    /// The stream was removed by retention.
    #[error("the stream has expired")]
    Expired,
    /// A stream with that id exists already.
    #[error("a stream with that id exists")]
    Exists,
    /// The stream has ended: it takes no more events.
    #[error("the stream has ended")]
    Finished,
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The backend failed (disk, connection).
    #[error("store backend: {0}")]
    Backend(String),
}

/// An append-only log of events per stream, with a live tail.
///
/// Every method is safe to call from many tasks at once. Implementations must:
/// - assign positions 1, 2, 3 … with no gaps, in the order `append` calls are served;
/// - make an event durable before any subscriber receives it;
/// - refuse events after a terminal one ([`StoreError::Finished`]);
/// - deliver to [`subscribe`](Store::subscribe)rs in position order.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a stream. Fails with [`StoreError::Exists`] if the id is taken.
    async fn create(&self, meta: StreamMeta) -> Result<(), StoreError>;

    /// The stream's metadata; [`StoreError::NotFound`] for an unknown id.
    async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError>;

    /// Appends events in order; returns them as stored. A terminal event ends the stream, and
    /// any event after it in the same call is refused with the whole call.
    async fn append(
        &self,
        id: &str,
        events: Vec<Event>,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError>;

    /// Up to `limit` events after position `after`, in order, and no more once their frames
    /// reach `max_bytes` (the page still holds at least one event, whatever its size): a page is
    /// what a reader holds at once, so it is bounded in bytes, not only in events.
    async fn read(
        &self,
        id: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError>;

    /// The live tail: every append from now on, one ring entry per append. Subscribe first, then
    /// read the history, and skip positions already seen — no event falls between the two.
    fn subscribe(&self, id: &str) -> broadcast::Receiver<Appended>;

    /// Called after a subscriber of `id` dropped its receiver: frees the live tail's resources
    /// when nobody is left listening.
    fn release(&self, id: &str);

    /// Streams that have not ended (a producer may have died with them).
    async fn running(&self) -> Result<Vec<StreamMeta>, StoreError>;

    /// Removes the events of streams finished before `before` (ms since the Unix epoch); their
    /// ids answer [`StoreError::Expired`] from then on. Returns how many streams expired.
    async fn expire(&self, before: u64) -> Result<usize, StoreError>;
}

/// An append's events, checked and serialized by the caller: a store's writer (for `sqlite`, its
/// one thread, which every append of the server goes through) only numbers and frames them.
struct Batch {
    /// Each event's name, payload JSON and whether it ends the stream.
    events: Vec<(EventKind, String, bool)>,
    /// The status the batch leaves the stream in, if its last event ends it.
    status: Option<StreamStatus>,
}

impl Batch {
    /// Checks `events` for appending: nothing may follow a terminal event.
    fn new(events: &[Event]) -> Result<Self, StoreError> {
        let mut status = None;
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            if status.is_some() {
                return Err(StoreError::Finished);
            }
            let terminal = event.is_terminal();
            if terminal {
                status = Some(StreamStatus::after(event));
            }
            out.push((event.kind(), event.data_json(), terminal));
        }
        Ok(Self {
            events: out,
            status,
        })
    }

    /// The events as stored in `stream` after position `last_seq`.
    fn encode(&self, stream: &str, last_seq: u64) -> Vec<Arc<StoredEvent>> {
        (last_seq + 1..)
            .zip(&self.events)
            .map(|(seq, (kind, data, terminal))| {
                Arc::new(StoredEvent::encode(
                    stream,
                    seq,
                    kind.clone(),
                    data,
                    *terminal,
                ))
            })
            .collect()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
