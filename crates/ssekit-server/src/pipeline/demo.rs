//! The `demo` pipeline: runs the shared script of `ssekit-demo` on tokio, pausing `delayMs`
//! between events.

use std::time::Instant;

use ssekit_demo::Script;
use ssekit_events::{ErrorEvent, Event};

use super::{Emitter, GenerationSpec, Stop};

/// Runs the demo pipeline to its end.
pub async fn run(spec: &GenerationSpec, out: &Emitter) -> Result<(), Stop> {
    let started = Instant::now();
    let mut script = Script::new(out.id(), &spec.topic, spec.blocks);
    while let Some(step) = script.next_step() {
        if step.pause {
            out.pause(spec.delay_ms).await?;
        }
        let event = script.event(step, started.elapsed().as_millis() as u64);
        out.emit(event).await?;
    }
    Ok(())
}

/// A recoverable error, for pipelines that report a failed stage and go on.
pub fn stage_failed(stage: &str, message: impl Into<String>) -> Event {
    Event::Error(ErrorEvent {
        message: message.into(),
        stage: stage.into(),
        recoverable: true,
    })
}
