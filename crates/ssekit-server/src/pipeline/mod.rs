//! Pipelines: the work behind a generation, run detached from any connection.
//!
//! A pipeline appends events through an [`Emitter`]; subscribers come and go without touching
//! it. Cancel and shutdown reach it through its cancellation token.

pub mod demo;
mod exec;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Map, Value};
use ssekit_events::{ErrorEvent, Event, STAGE_INTERRUPTED};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::ApiError;
use crate::store::{now_ms, StoreError, StreamKind, StreamMeta};
use crate::{sanitize, AppState, Config};

/// Longest topic, in characters.
const MAX_TOPIC: usize = 500;
/// How long shutdown waits for pipelines to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A new random id: `prefix` and 20 lowercase base-36 characters.
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let mut id = String::with_capacity(prefix.len() + 20);
    id.push_str(prefix);
    id.extend((0..20).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char));
    id
}

/// A validated generation request.
#[derive(Debug, Clone)]
pub struct GenerationSpec {
    /// What the generation is about.
    pub topic: String,
    /// `demo` or the name of an `exec` pipeline.
    pub pipeline: String,
    /// Content blocks, 1–50.
    pub blocks: u32,
    /// Pause between events, ms.
    pub delay_ms: u64,
    /// The request as sent (an `exec` pipeline receives it on stdin).
    pub request: Map<String, Value>,
}

fn int_field(
    req: &Map<String, Value>,
    name: &str,
    min: u64,
    max: u64,
    default: u64,
) -> Result<u64, ApiError> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(format!("{name} must be a whole number from {min} to {max}"))
            }),
    }
}

impl GenerationSpec {
    /// Validates a request body (or the one-shot endpoint's query, as JSON).
    pub fn from_request(request: Value, config: &Config) -> Result<Self, ApiError> {
        let Value::Object(request) = request else {
            return Err(ApiError::invalid("the body must be a JSON object"));
        };
        let topic = match request.get("topic") {
            Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
            Some(Value::String(_)) | None => return Err(ApiError::invalid("topic is required")),
            Some(_) => return Err(ApiError::invalid("topic must be a string")),
        };
        if topic.chars().count() > MAX_TOPIC {
            return Err(ApiError::invalid(format!(
                "topic is longer than {MAX_TOPIC} characters"
            )));
        }
        let pipeline = match request.get("pipeline") {
            None | Some(Value::Null) => "demo".to_owned(),
            Some(Value::String(p)) => p.clone(),
            Some(_) => return Err(ApiError::invalid("pipeline must be a string")),
        };
        if pipeline != "demo" && !config.exec_pipelines.contains_key(&pipeline) {
            let mut known: Vec<&str> = vec!["demo"];
            known.extend(config.exec_pipelines.keys().map(String::as_str));
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_pipeline",
                format!(
                    "no pipeline {pipeline:?}; this server runs: {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(Self {
            blocks: int_field(&request, "blocks", 1, 50, 6)? as u32,
            delay_ms: int_field(&request, "delayMs", 0, 10_000, 150)?,
            topic,
            pipeline,
            request,
        })
    }
}

/// Creates a generation's stream and starts its pipeline. Returns the generation id.
pub async fn start(state: &AppState, spec: GenerationSpec) -> Result<String, ApiError> {
    let id = new_id("gen_");
    let info = json!({
        "pipeline": spec.pipeline,
        "topic": spec.topic,
        "blocks": spec.blocks,
        "delayMs": spec.delay_ms,
    });
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

/// How a pipeline appends to its stream.
pub struct Emitter {
    state: AppState,
    id: String,
    cancel: CancellationToken,
}

impl Emitter {
    /// The generation id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sanitizes and appends an event; returns once it is durable.
    pub async fn emit(&self, mut event: Event) -> Result<(), Stop> {
        if self.cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        sanitize::sanitize(&mut event);
        match self.state.store.append(&self.id, vec![event]).await {
            Ok(_) => {
                self.state.metrics.events_appended.inc();
                Ok(())
            }
            Err(StoreError::Finished) => Err(Stop::Finished),
            Err(e) => Err(Stop::Store(e)),
        }
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
            _ = tokio::time::sleep(Duration::from_millis(ms)) => Ok(()),
            _ = self.cancel.cancelled() => Err(Stop::Cancelled),
        }
    }

    /// Resolves when the pipeline is cancelled.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }
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
            let emitter = Emitter {
                state: state.clone(),
                id: id.clone(),
                cancel,
            };
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
