//! How a pipeline appends to its stream: in order, without waiting for each event to be durable.
//!
//! A pipeline that waited for every event's commit before computing the next would run at the
//! store's pace: with thousands of generations at once, each commit costs the SQLite writer a
//! page per stream, and every pipeline stalls behind it. Instead `emit` queues the event and
//! returns; one appender per pipeline appends, in order, everything queued while its previous
//! append was committing. The busier the store, the more events each append carries, so the
//! writer spends one page on several events of a stream. Subscribers still receive an event only
//! once it is durable: the store broadcasts after its commit, as for any append.

use std::sync::{Arc, Mutex};

use ssekit_events::Event;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Stop;
use crate::store::StoreError;
use crate::AppState;

/// Events a pipeline may run ahead of its durable ones before `emit` waits; also the most
/// events one append carries.
const AHEAD: usize = 256;

/// How a pipeline appends to its stream.
pub struct Emitter {
    id: String,
    cancel: CancellationToken,
    queue: mpsc::Sender<Event>,
    failure: Arc<Mutex<Option<Stop>>>,
}

/// Appends what an [`Emitter`] queues; runs until the emitter is dropped and its queue is empty,
/// or an append fails.
pub struct Appender {
    state: AppState,
    id: String,
    queue: mpsc::Receiver<Event>,
    failure: Arc<Mutex<Option<Stop>>>,
}

/// A pipeline's emitter and the appender that must run beside it.
pub fn emitter(state: AppState, id: String, cancel: CancellationToken) -> (Emitter, Appender) {
    let (tx, rx) = mpsc::channel(AHEAD);
    let failure = Arc::new(Mutex::new(None));
    (
        Emitter {
            id: id.clone(),
            cancel,
            queue: tx,
            failure: failure.clone(),
        },
        Appender {
            state,
            id,
            queue: rx,
            failure,
        },
    )
}

impl Emitter {
    /// The generation id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sanitizes an event and queues it for appending, in order. Returns at once unless the
    /// pipeline is [`AHEAD`] events ahead of the store; fails once an earlier append failed.
    pub async fn emit(&self, mut event: Event) -> Result<(), Stop> {
        if self.cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        ssekit_api::sanitize::sanitize(&mut event);
        if self.queue.send(event).await.is_err() {
            // The appender stopped on a failure; the runner reports it (see `Appender::outcome`).
            return Err(self
                .failure
                .lock()
                .expect("failure lock")
                .take()
                .unwrap_or(Stop::Finished));
        }
        Ok(())
    }

    /// Waits `ms` milliseconds unless cancelled first.
    pub async fn pause(&self, ms: u64) -> Result<(), Stop> {
        if ms == 0 {
            return if self.cancel.is_cancelled() {
                Err(Stop::Cancelled)
            } else {
                Ok(())
            };
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(ms)) => Ok(()),
            _ = self.cancel.cancelled() => Err(Stop::Cancelled),
        }
    }

    /// Resolves when the pipeline is cancelled.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }
}

impl Appender {
    /// Appends queued events until the emitter is gone and everything it queued is durable.
    pub async fn run(mut self) -> Self {
        let mut batch = Vec::with_capacity(AHEAD);
        while self.queue.recv_many(&mut batch, AHEAD).await > 0 {
            let n = batch.len() as u64;
            match self
                .state
                .store
                .append(&self.id, std::mem::take(&mut batch))
                .await
            {
                Ok(_) => {
                    self.state.metrics.events_appended.inc_by(n);
                }
                Err(e) => {
                    let stop = match e {
                        StoreError::Finished => Stop::Finished,
                        StoreError::NotOwner => Stop::Lost,
                        e => Stop::Store(e),
                    };
                    *self.failure.lock().expect("failure lock") = Some(stop);
                    // Refuse further events: the emitter's next `emit` reports the failure.
                    self.queue.close();
                    break;
                }
            }
        }
        self
    }

    /// The pipeline's outcome once its appends are done: a store failure (or the loss of the
    /// generation's ownership) outranks whatever the pipeline returned, and a refused append turns a clean end into that refusal.
    pub fn outcome(&self, pipeline: Result<(), Stop>) -> Result<(), Stop> {
        match self.failure.lock().expect("failure lock").take() {
            Some(stop @ (Stop::Store(_) | Stop::Lost)) => Err(stop),
            Some(stop) => pipeline.and(Err(stop)),
            None => pipeline,
        }
    }
}
