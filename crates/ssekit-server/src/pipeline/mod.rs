//! Pipelines: the work behind a generation, run detached from any connection.
//!
//! A pipeline appends events through an [`Emitter`]; subscribers come and go without touching
//! it. Cancel and shutdown reach it through its cancellation token.

pub mod demo;
mod emitter;
mod exec;

pub use emitter::Emitter;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ssekit_events::{ErrorEvent, Event, STAGE_INTERRUPTED};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::ApiError;
use crate::store::{now_ms, StoreError, StreamKind, StreamMeta};
use crate::{AppState, Config};

/// How long shutdown waits for pipelines to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A new random id: `prefix` and 20 lowercase base-36 characters.
pub fn new_id(prefix: &str) -> String {
    ssekit_api::format_id(prefix, &rand::random::<[u8; ssekit_api::ID_RANDOM_BYTES]>())
}

pub use ssekit_api::GenerationSpec;

/// The pipelines this server runs: `demo` and its `exec` pipelines.
pub fn pipelines(config: &Config) -> Vec<&str> {
    let mut names = vec!["demo"];
    names.extend(config.exec_pipelines.keys().map(String::as_str));
    names
}

/// Creates a generation's stream and starts its pipeline. Returns the generation id.
pub async fn start(state: &AppState, spec: GenerationSpec) -> Result<String, ApiError> {
    let id = new_id("gen_");
    let info = spec.info();
    state
        .store
        .create(StreamMeta::new(
            id.clone(),
            StreamKind::Generation,
            info,
            now_ms(),
        ))
        .await?;
    state.metrics.generations_started.inc();
    state.runner.spawn(state.clone(), id.clone(), spec);
    Ok(id)
}

/// Ends, with a recoverable `interrupted` error, every generation left running by a server that
/// died. Published streams stay open: their producers live elsewhere and may go on.
pub async fn recover(state: &AppState) -> Result<(), StoreError> {
    for meta in state.store.running().await? {
        if meta.kind == StreamKind::Generation {
            interrupt(
                state,
                &meta.id,
                "the server stopped while this generation was running; start it again",
            )
            .await;
        }
    }
    Ok(())
}

async fn interrupt(state: &AppState, id: &str, message: &str) {
    let event = Event::Error(ErrorEvent {
        message: message.to_owned(),
        stage: STAGE_INTERRUPTED.to_owned(),
        recoverable: true,
    });
    match state.store.append(id, vec![event]).await {
        Ok(_) => {
            state.metrics.events_appended.inc();
            tracing::info!(generation = %id, "interrupted generation ended");
        }
        Err(StoreError::Finished) => {}
        Err(e) => {
            tracing::warn!(generation = %id, error = %e, "could not end an interrupted generation")
        }
    }
}

/// Why a pipeline stopped before its end.
#[derive(Debug)]
pub enum Stop {
    /// Cancelled, or the server is shutting down.
    Cancelled,
    /// The stream ended already (cancelled through the API).
    Finished,
    /// The store failed.
    Store(StoreError),
}

/// The pipelines running in this process.
#[derive(Default)]
pub struct Runner {
    running: Mutex<HashMap<String, CancellationToken>>,
    tasks: TaskTracker,
}

impl Runner {
    fn spawn(&self, state: AppState, id: String, spec: GenerationSpec) {
        let cancel = state.shutdown.child_token();
        self.running
            .lock()
            .expect("runner lock")
            .insert(id.clone(), cancel.clone());
        self.tasks.spawn(async move {
            let started = Instant::now();
            let (emitter, appender) = emitter::emitter(state.clone(), id.clone(), cancel);
            let work = async {
                let result = match spec.pipeline.as_str() {
                    "demo" => demo::run(&spec, &emitter).await,
                    name => {
                        let command = state
                            .config
                            .exec_pipelines
                            .get(name)
                            .cloned()
                            .unwrap_or_default();
                        exec::run(&command, &spec, &emitter).await
                    }
                };
                // Dropping the emitter lets the appender finish once the queue is durable.
                drop(emitter);
                result
            };
            let (result, appender) = tokio::join!(work, appender.run());
            let result = appender.outcome(result);
            if let Err(Stop::Store(e)) = result {
                tracing::error!(generation = %id, error = %e, "pipeline stopped: the store failed");
                let _ = state
                    .store
                    .append(&id, vec![Event::fatal("store", "the event store failed")])
                    .await;
            }
            state
                .metrics
                .pipeline_duration
                .observe(started.elapsed().as_secs_f64());
            state
                .runner
                .running
                .lock()
                .expect("runner lock")
                .remove(&id);
        });
    }

    /// Stops a generation's pipeline.
    pub fn cancel(&self, id: &str) {
        if let Some(token) = self.running.lock().expect("runner lock").get(id) {
            token.cancel();
        }
    }

    /// Stops every pipeline (their tokens are children of the shutdown token), waits for them,
    /// and ends their streams with a recoverable `interrupted` error.
    pub async fn shutdown(&self, state: &AppState) {
        let ids: Vec<String> = self
            .running
            .lock()
            .expect("runner lock")
            .keys()
            .cloned()
            .collect();
        self.tasks.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("pipelines did not stop in time");
        }
        for id in ids {
            interrupt(
                state,
                &id,
                "the server shut down while this generation was running; start it again",
            )
            .await;
        }
    }
}

#[cfg(test)]
mod tests;
