//! The `memory` store: a log per stream in this process. Fast, and gone when the process ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ssekit_events::{Event, StreamStatus};

use super::{
    now_ms, AppendOnce, Batch, Hub, Live, Store, StoreError, StoredEvent, StreamMeta, TOMBSTONE_MS,
};

struct Log {
    meta: StreamMeta,
    events: Vec<Arc<StoredEvent>>,
    /// Idempotency keys: the position of the first event each stored, and how many.
    keys: HashMap<String, (u64, usize)>,
}

impl Log {
    /// Appends a checked batch and hands it to subscribers (under the store's lock, so
    /// concurrent appends reach them in position order).
    fn append(
        &mut self,
        id: &str,
        batch: &Batch,
        hub: &Hub,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        if self.meta.finished() {
            return Err(StoreError::Finished);
        }
        let stored = batch.encode(id, self.meta.last_seq);
        self.events.extend(stored.iter().cloned());
        self.meta.last_seq += stored.len() as u64;
        if let Some(status) = batch.status {
            self.meta.status = status;
            self.meta.finished_at = Some(now_ms());
        }
        hub.publish(id, &stored);
        Ok(stored)
    }
}

/// Streams held in memory.
pub struct MemoryStore {
    streams: Mutex<HashMap<String, Log>>,
    hub: Arc<Hub>,
}

impl MemoryStore {
    /// An empty store whose subscribers may fall `buffer` events behind before they are dropped.
    pub fn new(buffer: usize) -> Self {
        Self {
            streams: Mutex::new(HashMap::new()),
            hub: Arc::new(Hub::new(buffer)),
        }
    }

    fn with_log<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Log) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut streams = self.streams.lock().expect("memory store lock");
        let log = streams.get_mut(id).ok_or(StoreError::NotFound)?;
        if log.meta.expired {
            return Err(StoreError::Expired);
        }
        f(log)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create(&self, meta: StreamMeta) -> Result<(), StoreError> {
        let mut streams = self.streams.lock().expect("memory store lock");
        if streams.contains_key(&meta.id) {
            return Err(StoreError::Exists);
        }
        streams.insert(
            meta.id.clone(),
            Log {
                meta,
                events: Vec::new(),
                keys: HashMap::new(),
            },
        );
        Ok(())
    }

    async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError> {
        let streams = self.streams.lock().expect("memory store lock");
        let log = streams.get(id).ok_or(StoreError::NotFound)?;
        if log.meta.expired {
            return Err(StoreError::Expired);
        }
        Ok(log.meta.clone())
    }

    async fn append(
        &self,
        id: &str,
        events: Vec<Event>,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let batch = Batch::new(&events)?;
        self.with_log(id, |log| log.append(id, &batch, &self.hub))
    }

    async fn append_once(
        &self,
        id: &str,
        key: &str,
        events: Vec<Event>,
    ) -> Result<AppendOnce, StoreError> {
        let batch = Batch::new(&events)?;
        self.with_log(id, |log| {
            if let Some(&(first, n)) = log.keys.get(key) {
                let start = (first - 1) as usize;
                let stored = log.events.get(start..start + n).unwrap_or_default();
                if !batch.is_stored_as(stored) {
                    return Err(StoreError::KeyReused);
                }
                return Ok(AppendOnce {
                    events: stored.to_vec(),
                    replayed: true,
                });
            }
            let stored = log.append(id, &batch, &self.hub)?;
            let first = stored.first().map_or(log.meta.last_seq + 1, |e| e.seq);
            log.keys.insert(key.to_owned(), (first, stored.len()));
            Ok(AppendOnce {
                events: stored,
                replayed: false,
            })
        })
    }

    async fn read(
        &self,
        id: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.with_log(id, |log| {
            let start = (after as usize).min(log.events.len());
            let (mut bytes, max_bytes) = (0, max_bytes.max(1));
            Ok(log.events[start..]
                .iter()
                .take(limit)
                .take_while(|e| {
                    let more = bytes < max_bytes;
                    bytes += e.frame.len();
                    more
                })
                .cloned()
                .collect())
        })
    }

    fn subscribe(&self, id: &str) -> Live {
        self.hub.subscribe(id)
    }

    async fn running(&self) -> Result<Vec<StreamMeta>, StoreError> {
        let streams = self.streams.lock().expect("memory store lock");
        Ok(streams
            .values()
            .filter(|l| l.meta.status == StreamStatus::Running && !l.meta.expired)
            .map(|l| l.meta.clone())
            .collect())
    }

    async fn expire(&self, before: u64) -> Result<usize, StoreError> {
        let mut streams = self.streams.lock().expect("memory store lock");
        let mut n = 0;
        for log in streams.values_mut() {
            if !log.meta.expired && log.meta.finished_at.is_some_and(|t| t < before) {
                log.meta.expired = true;
                log.events = Vec::new();
                log.keys = HashMap::new();
                n += 1;
            }
        }
        let forget = before.saturating_sub(TOMBSTONE_MS);
        streams.retain(|_, l| !(l.meta.expired && l.meta.finished_at.is_some_and(|t| t < forget)));
        Ok(n)
    }
}
