//! Append-only event logs, one per stream: the built-in stores, and the trait a store of your
//! own implements.
//!
//! A [`Store`] assigns each appended event its position, makes it durable, and only then hands it
//! to live subscribers — so an event a browser has received is always one the store can replay.
//! `memory` and `sqlite` live here. Another backend (a database the deployment already runs)
//! implements [`Store`] and is given to the server with
//! [`StoreConfig::Custom`](crate::StoreConfig::Custom); [`conformance`] (the `conformance`
//! feature) is the suite every store here passes, for checking it.
//!
//! A store of your own, here one that counts appends in front of the memory store:
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//!
//! use async_trait::async_trait;
//! use ssekit_events::Event;
//! use ssekit_server::store::{Live, MemoryStore, Store, StoreError, StoredEvent, StreamMeta};
//! use ssekit_server::{Config, StoreConfig};
//!
//! struct Counted {
//!     inner: MemoryStore,
//!     appends: AtomicU64,
//! }
//!
//! #[async_trait]
//! impl Store for Counted {
//!     async fn create(&self, meta: StreamMeta) -> Result<(), StoreError> {
//!         self.inner.create(meta).await
//!     }
//!     async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError> {
//!         self.inner.meta(id).await
//!     }
//!     async fn append(&self, id: &str, events: Vec<Event>) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
//!         self.appends.fetch_add(1, Ordering::Relaxed);
//!         self.inner.append(id, events).await
//!     }
//!     async fn read(&self, id: &str, after: u64, limit: usize, max_bytes: usize)
//!         -> Result<Vec<Arc<StoredEvent>>, StoreError> {
//!         self.inner.read(id, after, limit, max_bytes).await
//!     }
//!     fn subscribe(&self, id: &str) -> Live {
//!         self.inner.subscribe(id)
//!     }
//!     async fn running(&self) -> Result<Vec<StreamMeta>, StoreError> {
//!         self.inner.running().await
//!     }
//!     async fn expire(&self, before: u64) -> Result<usize, StoreError> {
//!         self.inner.expire(before).await
//!     }
//! }
//!
//! let store = Arc::new(Counted { inner: MemoryStore::new(256), appends: AtomicU64::new(0) });
//! let config = Config { store: StoreConfig::Custom(store), ..Config::default() };
//! // ssekit_server::serve(config, listener, shutdown) serves from it.
//! # let _ = config;
//! ```

// Built with the `conformance` feature (and for the docs, so they can link to it).
#[cfg(any(test, doc, feature = "conformance"))]
pub mod conformance;
mod hub;
mod memory;
mod redis;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ssekit_events::{Event, EventKind, StreamStatus};

pub use hub::{Hub, Live};

/// Expired streams are remembered (so their ids answer 410, not 404) this long after expiring.
const TOMBSTONE_MS: u64 = 7 * 24 * 3600 * 1000;

pub use memory::MemoryStore;
pub use redis::{RedisOptions, RedisStore};
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
    /// An idempotency key already stored other events in this stream.
    #[error("the idempotency key was used for other events")]
    KeyReused,
    /// This server no longer owns the generation (its lease ran out, another server ended it):
    /// its pipeline must stop without writing.
    #[error("this server no longer owns the generation")]
    NotOwner,
}

/// What [`Store::append_once`] did.
#[derive(Debug)]
pub struct AppendOnce {
    /// The events the key stored: appended now, or by the first use of the key.
    pub events: Vec<Arc<StoredEvent>>,
    /// Whether they were stored by an earlier call with the same key (nothing was appended now).
    pub replayed: bool,
}

/// An append-only log of events per stream, with a live tail.
///
/// Every method is safe to call from many tasks at once. The contract, which the server relies
/// on and [`conformance`] checks:
/// - **Positions.** `append` assigns positions 1, 2, 3 … per stream with no gaps, in the order
///   its calls are served; an append's events are consecutive. [`read`](Store::read) returns
///   them in that order, and the same bytes each time (an event id is `{stream}:{position}`).
/// - **Durable before delivered.** An event reaches a [`subscribe`](Store::subscribe)r only once
///   `read` (after a restart too, for a durable store) would return it: a client can never hold
///   an event id the store cannot resume from. Feed the live tail (a [`Hub`]) only after the
///   write is durable, and in position order.
/// - **Terminal.** A terminal event ends its stream: any later `append`, and any append with an
///   event after a terminal one in the same call, is refused whole with
///   [`StoreError::Finished`]; the stream's status becomes the terminal event's. Application
///   events are never terminal. After the terminal event the live tail is closed, so
///   subscribers drain it and see the end.
/// - **Errors.** [`StoreError::NotFound`], [`Expired`](StoreError::Expired),
///   [`Exists`](StoreError::Exists) and [`Finished`](StoreError::Finished) are answers about the
///   stream, passed on to the client as such; [`Backend`](StoreError::Backend) and
///   [`Corrupt`](StoreError::Corrupt) are failures: logged, and the client is told the store is
///   unavailable and to retry.
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
    /// Dropping the [`Live`] frees the tail's ring when it was the stream's last subscriber.
    fn subscribe(&self, id: &str) -> Live;

    /// Streams that have not ended (a producer may have died with them).
    async fn running(&self) -> Result<Vec<StreamMeta>, StoreError>;

    /// Removes the events of streams finished before `before` (ms since the Unix epoch); their
    /// ids answer [`StoreError::Expired`] from then on. Returns how many streams expired.
    async fn expire(&self, before: u64) -> Result<usize, StoreError>;

    /// Appends like [`append`](Store::append), at most once per `key` in the stream: a later call
    /// with the same key and the same events appends nothing and returns the events the first
    /// one stored (`replayed`); with other events it fails with [`StoreError::KeyReused`]. Keys
    /// are kept as long as the stream. Checking the key and appending are one atomic step, so
    /// two retries racing each other store the events once.
    async fn append_once(
        &self,
        id: &str,
        key: &str,
        events: Vec<Event>,
    ) -> Result<AppendOnce, StoreError> {
        let _ = (id, key, events);
        Err(StoreError::Backend(
            "this store does not keep idempotency keys".into(),
        ))
    }

    /// Ends every generation whose producer is gone with `terminal`, each exactly once, and
    /// returns their ids. The server calls it at start and then every
    /// [`sweep_every`](Store::sweep_every).
    ///
    /// For a store one server writes (the default), every generation still running at start was
    /// left by a server that died. A store several servers share ends only generations whose
    /// owner's lease ran out, re-checking the lease in the same atomic step as the write.
    async fn end_orphans(&self, terminal: &Event) -> Result<Vec<String>, StoreError> {
        let mut ended = Vec::new();
        for meta in self.running().await? {
            if meta.kind != StreamKind::Generation {
                continue;
            }
            match self.append(&meta.id, vec![terminal.clone()]).await {
                Ok(_) => ended.push(meta.id),
                Err(StoreError::Finished) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ended)
    }

    /// How often the server sweeps for orphans after start: `None` (the default) for a store one
    /// server writes, where orphans only exist at start.
    fn sweep_every(&self) -> Option<std::time::Duration> {
        None
    }

    /// Whether the backend answers now; `/healthz` says 503 when it does not.
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
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

    /// Whether `stored` are this batch's events (names and payloads, in order): a retry with an
    /// idempotency key must carry the events its first use stored.
    fn is_stored_as(&self, stored: &[Arc<StoredEvent>]) -> bool {
        self.matches(stored.iter().map(|e| (e.kind.as_str(), &e.data[..])))
    }

    /// Whether `stored` (each event's name and payload JSON) are this batch's events, in order.
    fn matches<'a>(&self, stored: impl ExactSizeIterator<Item = (&'a str, &'a [u8])>) -> bool {
        stored.len() == self.events.len()
            && stored
                .zip(&self.events)
                .all(|((name, data), (kind, json, _))| {
                    name == kind.as_str() && data == json.as_bytes()
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
pub(crate) mod faulty;
#[cfg(test)]
mod tests;
