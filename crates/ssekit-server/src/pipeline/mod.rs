//! Pipelines: the work behind a generation, run detached from any connection.
//!
//! A pipeline appends events through an [`Emitter`]; subscribers come and go without touching
//! it. Cancel and shutdown reach it through its cancellation token.

pub mod demo;
mod emitter;
mod exec;

pub use emitter::Emitter;

use std::collections::{HashMap, HashSet};
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

/// The terminal of a generation whose producer is gone.
fn interrupted(message: &str) -> Event {
    Event::Error(ErrorEvent {
        message: message.to_owned(),
        stage: STAGE_INTERRUPTED.to_owned(),
        recoverable: true,
    })
}

/// What an orphaned generation's stream ends with: at start, and on every sweep.
const ORPHANED: &str = "the server stopped while this generation was running; start it again";

/// Ends, with a recoverable `interrupted` error, every generation whose producer is gone: for a
/// store this server alone writes, every generation left running (its server died); for a
/// shared store, those whose owner's lease ran out (the store decides: [`Store::end_orphans`]).
/// Published streams stay open: their producers live elsewhere and may go on.
///
/// [`Store::end_orphans`]: crate::store::Store::end_orphans
pub async fn recover(state: &AppState) -> Result<(), StoreError> {
    let ended = state.store.end_orphans(&interrupted(ORPHANED)).await?;
    state.metrics.events_appended.inc_by(ended.len() as u64);
    for id in &ended {
        tracing::info!(generation = %id, "interrupted generation ended");
    }
    Ok(())
}

/// Sweeps for orphaned generations every `every` (a shared store's leases run out while this
/// server runs); a failed sweep is logged and tried again at the next tick.
pub async fn sweep_loop(state: AppState, every: Duration) {
    // `interval` panics on zero: a store asking for "always" gets a short pause.
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is now: `recover` has just swept.
    tick.tick().await;
    // An outage fails a sweep every tick: say so once when it begins, and once when it ends.
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.shutdown.cancelled() => return,
        }
        match recover(&state).await {
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "the sweep for orphaned generations failed; retrying each tick");
            }
            Err(e) => tracing::debug!(error = %e, "the sweep failed again"),
            Ok(()) if failing => {
                failing = false;
                tracing::info!("the sweep for orphaned generations works again");
            }
            Ok(()) => {}
        }
    }
}

async fn interrupt(state: &AppState, id: &str, message: &str) {
    match state.store.append(id, vec![interrupted(message)]).await {
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
    /// This server no longer owns the generation (a shared store's lease ran out, and another
    /// server may have ended it): the pipeline stops without writing anything.
    Lost,
}

/// The pipelines running in this process.
#[derive(Default)]
pub struct Runner {
    running: Mutex<HashMap<String, CancellationToken>>,
    /// Generations whose ownership was lost: shutdown does not interrupt them.
    lost: Mutex<HashSet<String>>,
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
            match result {
                Err(Stop::Store(e)) => {
                    tracing::error!(generation = %id, error = %e, "pipeline stopped: the store failed");
                    let _ = state
                        .store
                        .append(&id, vec![Event::fatal("store", "the event store failed")])
                        .await;
                }
                Err(Stop::Lost) => {
                    tracing::warn!(
                        generation = %id,
                        "pipeline stopped: lost ownership (its lease ran out; another server ends it)"
                    );
                    // Only a shutdown under way needs to know (it interrupts the generations
                    // running when it began); before one, the id leaves `running` below.
                    if state.shutdown.is_cancelled() {
                        state.runner.lost.lock().expect("runner lock").insert(id.clone());
                    }
                }
                _ => {}
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
        let lost = std::mem::take(&mut *self.lost.lock().expect("runner lock"));
        for id in ids.into_iter().filter(|id| !lost.contains(id)) {
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
