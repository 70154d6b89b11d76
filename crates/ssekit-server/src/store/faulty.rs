//! A store for the server's own tests that fails on demand: the memory store behind switches, so
//! a test can make it answer as a shared store does when things go wrong.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use ssekit_events::Event;

use super::{Live, MemoryStore, Store, StoreError, StoredEvent, StreamMeta};
use crate::{open_store, AppState, Config, StoreConfig};

/// The memory store with switches: `lost` refuses every append with [`StoreError::NotOwner`] (a
/// zombie owner, whose lease another server took), `down` fails the health check (a backend that
/// does not answer). It counts append attempts and sweeps; every other sweep fails.
pub struct Faulty {
    pub inner: MemoryStore,
    pub lost: AtomicBool,
    pub down: AtomicBool,
    pub appends: AtomicUsize,
    pub sweeps: AtomicUsize,
}

impl Faulty {
    /// A server's state on a new faulty store, and the store, to flip its switches.
    pub fn state() -> (AppState, Arc<Faulty>) {
        let store = Arc::new(Faulty {
            inner: MemoryStore::new(64),
            lost: AtomicBool::new(false),
            down: AtomicBool::new(false),
            appends: AtomicUsize::new(0),
            sweeps: AtomicUsize::new(0),
        });
        let config = Config {
            store: StoreConfig::Custom(store.clone()),
            ..Config::default()
        };
        let state = AppState::new(config.clone(), open_store(&config).unwrap());
        (state, store)
    }
}

#[async_trait]
impl Store for Faulty {
    async fn create(&self, meta: StreamMeta) -> Result<(), StoreError> {
        self.inner.create(meta).await
    }
    async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError> {
        self.inner.meta(id).await
    }
    async fn append(
        &self,
        id: &str,
        events: Vec<Event>,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        if self.lost.load(Ordering::SeqCst) {
            return Err(StoreError::NotOwner);
        }
        self.inner.append(id, events).await
    }
    async fn read(
        &self,
        id: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.inner.read(id, after, limit, max_bytes).await
    }
    fn subscribe(&self, id: &str) -> Live {
        self.inner.subscribe(id)
    }
    async fn running(&self) -> Result<Vec<StreamMeta>, StoreError> {
        self.inner.running().await
    }
    async fn expire(&self, before: u64) -> Result<usize, StoreError> {
        self.inner.expire(before).await
    }
    async fn end_orphans(&self, _terminal: &Event) -> Result<Vec<String>, StoreError> {
        // Every other sweep fails: the sweep loop logs it and goes on.
        if self.sweeps.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
            return Err(StoreError::Backend("down".into()));
        }
        Ok(Vec::new())
    }
    async fn health(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("connection refused".into()));
        }
        Ok(())
    }
}
