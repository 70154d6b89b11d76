//! The `demo` pipeline: runs the shared script of `ssekit-demo` on tokio, pausing `delayMs`
//! between events.

use std::time::Instant;

use ssekit_demo::Script;
use ssekit_events::{ErrorEvent, Event};

use super::{Emitter, GenerationSpec, Stop};
use crate::store::StreamMeta;

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

/// The SVG of image `name` (`img-{i}.svg`) of a demo generation, if it has one.
pub fn image_for(meta: &StreamMeta, name: &str) -> Option<String> {
    if meta.info.get("pipeline").and_then(|p| p.as_str()) != Some("demo") {
        return None;
    }
    let blocks = meta
        .info
        .get("blocks")
        .and_then(|b| b.as_u64())
        .unwrap_or(0) as u32;
    let index = ssekit_demo::image_index(name, blocks)?;
    let topic = meta
        .info
        .get("topic")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    Some(ssekit_demo::image_svg(topic, index))
}
