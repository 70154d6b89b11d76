//! `exec` pipelines: an external command per generation.
//!
//! The command gets the request JSON on stdin and writes one event per line on stdout, as
//! `{"event": "...", "data": {...}}`: an event of the vocabulary, or an application event (a
//! `namespace.name` with any JSON data, never terminal). A line that is neither becomes a
//! recoverable `error`; exiting non-zero ends the stream with a terminal `error`; exiting 0
//! without a terminal event ends it with `generation-complete`. Cancel and shutdown stop the
//! whole process group.

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use ssekit_events::{Event, GenerationComplete};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

use super::demo::stage_failed;
use super::{Emitter, GenerationSpec, Stop};

/// Longest line a pipeline may write; longer ones are reported and skipped.
const MAX_LINE: usize = 1024 * 1024;
/// How long a stopped pipeline has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);

/// Stops the command's whole process group: the shell and everything it started.
async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let group = Pid::from_raw(pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(KILL_GRACE, child.wait())
            .await
            .is_err()
        {
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
    let _ = child.wait().await;
}

/// Runs `command` for the generation `spec` until it exits or is stopped.
pub async fn run(command: &str, spec: &GenerationSpec, out: &Emitter) -> Result<(), Stop> {
    let started = Instant::now();
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // Its own process group, so a stop reaches the children the shell started.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            return out
                .emit(Event::fatal(
                    "exec",
                    format!("the pipeline could not start: {e}"),
                ))
                .await
        }
    };

    let mut request = spec.request.clone();
    request.insert("id".into(), out.id().into());
    let input = serde_json::to_vec(&request).unwrap_or_default();
    if let Some(mut stdin) = child.stdin.take() {
        // Written from a task: a command that does not read its stdin must not block us.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
            let _ = stdin.shutdown().await;
        });
    }
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = FramedRead::new(stdout, LinesCodec::new_with_max_length(MAX_LINE));

    let outcome = async {
        loop {
            let line = tokio::select! {
                line = lines.next() => line,
                _ = out.cancelled() => return Err(Stop::Cancelled),
            };
            let event = match line {
                None => return Ok(false),
                Some(Ok(line)) if line.trim().is_empty() => continue,
                Some(Ok(line)) => serde_json::from_str::<Event>(&line).unwrap_or_else(|e| {
                    stage_failed(
                        "exec",
                        format!("the pipeline wrote an invalid event line: {e}"),
                    )
                }),
                Some(Err(LinesCodecError::MaxLineLengthExceeded)) => stage_failed(
                    "exec",
                    format!("the pipeline wrote a line longer than {MAX_LINE} bytes"),
                ),
                Some(Err(LinesCodecError::Io(e))) => {
                    stage_failed("exec", format!("reading the pipeline's output failed: {e}"))
                }
            };
            let terminal = event.is_terminal();
            out.emit(event).await?;
            if terminal {
                return Ok(true);
            }
        }
    }
    .await;

    let ended = match outcome {
        Ok(ended) => ended,
        Err(stop_reason) => {
            stop(&mut child).await;
            return Err(stop_reason);
        }
    };
    if ended {
        // The stream is over; whatever the command does next has nowhere to go.
        stop(&mut child).await;
        return Ok(());
    }
    let status = tokio::select! {
        status = child.wait() => status,
        _ = out.cancelled() => {
            stop(&mut child).await;
            return Err(Stop::Cancelled);
        }
    };
    match status {
        Ok(s) if s.success() => {
            out.emit(Event::GenerationComplete(GenerationComplete {
                success: true,
                total_duration: started.elapsed().as_millis() as u64,
            }))
            .await
        }
        Ok(s) => {
            out.emit(Event::fatal("exec", format!("the pipeline failed: {s}")))
                .await
        }
        Err(e) => {
            out.emit(Event::fatal(
                "exec",
                format!("waiting for the pipeline failed: {e}"),
            ))
            .await
        }
    }
}
