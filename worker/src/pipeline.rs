//! The `demo` pipeline on the Workers runtime: the shared script of `ssekit-demo`, paced with
//! the runtime's timers, appending through the stream's object.

use std::rc::Rc;
use std::time::Duration;

use ssekit_api::{ErrorCode, GenerationInfo, StreamMeta};
use ssekit_demo::Script;

use crate::stream::{now_ms, Inner};

/// Runs the script of `meta`'s generation to its end, or until the stream ends some other way
/// (a cancel).
pub async fn run(stream: Rc<Inner>, meta: StreamMeta) {
    let info = GenerationInfo::of(&meta);
    let delay = info.delay_ms;
    let mut script = Script::new(&meta.id, &info.topic, info.blocks);
    while let Some(step) = script.next_step() {
        if step.pause && delay > 0 {
            worker::Delay::from(Duration::from_millis(delay)).await;
        }
        let mut event = script.event(step, now_ms().saturating_sub(meta.created_at));
        // As the native emitter does: the same script stores the same HTML on both targets.
        ssekit_api::sanitize::sanitize(&mut event);
        if let Err(e) = stream.append(std::slice::from_ref(&event)) {
            // `stream_finished`: cancelled meanwhile. Anything else: the watchdog ends the stream.
            if e.code() != ErrorCode::StreamFinished {
                worker::console_error!("ssekit worker: pipeline of {}: {e}", meta.id);
            }
            return;
        }
    }
}
