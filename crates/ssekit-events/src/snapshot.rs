//! The state of a stream, folded from its events: what `GET /v1/generations/{id}` returns and
//! what the persisted document is rendered from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::url::is_safe_url;
use crate::vocabulary::{BlockContentMode, Event, STAGE_CANCELLED};

/// Where a stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum StreamStatus {
    /// No terminal event yet.
    Running,
    /// Ended with `generation-complete`.
    Complete,
    /// Ended with a terminal `error` other than a cancel.
    Error,
    /// Ended by a cancel.
    Cancelled,
}

impl StreamStatus {
    /// The status a terminal event leaves its stream in.
    pub fn after(terminal: &Event) -> Self {
        match terminal {
            Event::GenerationComplete(c) if c.success => StreamStatus::Complete,
            Event::Error(e) if e.stage == STAGE_CANCELLED => StreamStatus::Cancelled,
            _ => StreamStatus::Error,
        }
    }

    /// The lowercase name (`running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Running => "running",
            StreamStatus::Complete => "complete",
            StreamStatus::Error => "error",
            StreamStatus::Cancelled => "cancelled",
        }
    }
}

/// Where a block stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum BlockStatus {
    /// Announced by `generation-start` only.
    Pending,
    /// Started, content arriving.
    Streaming,
    /// `block-complete` seen.
    Complete,
}

/// One image of a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageSnapshot {
    /// The image's id.
    pub image_id: String,
    /// Alternative text.
    pub alt: String,
    /// Where it is, once `image-ready` was seen.
    pub url: Option<String>,
}

/// One block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BlockSnapshot {
    /// The block's position.
    pub block_index: u32,
    /// The block's id, once started.
    pub block_id: Option<String>,
    /// The block's title, once started.
    pub title: Option<String>,
    /// The block's HTML so far (sanitized).
    pub html: String,
    /// Where the block stands.
    pub status: BlockStatus,
    /// The block's images, in the order they were announced.
    pub images: Vec<ImageSnapshot>,
}

/// A stream's state folded from its events.
///
/// ```
/// use ssekit_events::{Event, Snapshot, GenerationStart, StreamStatus};
/// let mut s = Snapshot::default();
/// s.apply(&Event::GenerationStart(GenerationStart { session_id: "g".into(), total_blocks: 2, model: "m".into() }));
/// assert_eq!(s.blocks.len(), 2);
/// assert_eq!(s.status, StreamStatus::Running);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Where the stream stands.
    pub status: StreamStatus,
    /// The model named by `generation-start`.
    pub model: Option<String>,
    /// Blocks announced by `generation-start`.
    pub total_blocks: u32,
    /// Blocks by index.
    #[serde(serialize_with = "blocks_as_list")]
    pub blocks: BTreeMap<u32, BlockSnapshot>,
    /// Reasoning steps, in order.
    pub reasoning: Vec<String>,
    /// The persisted document's URL, once `persist-complete` was seen.
    pub document_url: Option<String>,
    /// The message of the last `error` event.
    pub error: Option<String>,
    /// The `generation-complete` total duration, in milliseconds.
    pub total_duration: Option<u64>,
}

fn blocks_as_list<S: serde::Serializer>(
    blocks: &BTreeMap<u32, BlockSnapshot>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(blocks.values())
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            status: StreamStatus::Running,
            model: None,
            total_blocks: 0,
            blocks: BTreeMap::new(),
            reasoning: Vec::new(),
            document_url: None,
            error: None,
            total_duration: None,
        }
    }
}

/// Bounds the blocks a hostile `generation-start` can make a snapshot allocate.
const MAX_BLOCKS: u32 = 1000;

impl Snapshot {
    /// Folds one event into the state.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::GenerationStart(e) => {
                self.model = Some(e.model.clone());
                self.total_blocks = e.total_blocks;
                for i in 0..e.total_blocks.min(MAX_BLOCKS) {
                    self.block(i);
                }
            }
            Event::ReasoningStep(e) => self.reasoning.push(e.content.clone()),
            Event::BlockStart(e) => {
                let b = self.block(e.block_index);
                b.block_id = Some(e.block_id.clone());
                b.title = Some(e.title.clone());
                b.status = BlockStatus::Streaming;
            }
            Event::BlockContent(e) => {
                let b = self.block(e.block_index);
                match e.mode.unwrap_or_default() {
                    BlockContentMode::Replace => b.html.clone_from(&e.html),
                    BlockContentMode::Append => b.html.push_str(&e.html),
                }
                if b.status == BlockStatus::Pending {
                    b.status = BlockStatus::Streaming;
                }
            }
            Event::BlockComplete(e) => self.block(e.block_index).status = BlockStatus::Complete,
            Event::ImagePlaceholder(e) => {
                let b = self.block(e.block_index);
                if !b.images.iter().any(|i| i.image_id == e.image_id) {
                    b.images.push(ImageSnapshot {
                        image_id: e.image_id.clone(),
                        alt: e.alt.clone(),
                        url: None,
                    });
                }
            }
            // Parsed events have safe URLs already; one built in code might not, and the snapshot
            // feeds `documentUrl` and the document's `<img src>`.
            Event::ImageReady(e) if !is_safe_url(&e.url) => {}
            Event::PersistComplete(e) if !is_safe_url(&e.url) => {}
            Event::ImageReady(e) => {
                let b = self.block(e.block_index);
                match b.images.iter_mut().find(|i| i.image_id == e.image_id) {
                    Some(i) => i.url = Some(e.url.clone()),
                    None => b.images.push(ImageSnapshot {
                        image_id: e.image_id.clone(),
                        alt: String::new(),
                        url: Some(e.url.clone()),
                    }),
                }
            }
            Event::PersistComplete(e) => self.document_url = Some(e.url.clone()),
            Event::GenerationComplete(e) => self.total_duration = Some(e.total_duration),
            Event::Error(e) => self.error = Some(e.message.clone()),
            // Application events are the application's: the snapshot of a generation has no
            // place for them.
            Event::ReasoningStart(_)
            | Event::ReasoningComplete(_)
            | Event::PersistStart(_)
            | Event::App(_) => {}
        }
        if event.is_terminal() {
            self.status = StreamStatus::after(event);
        }
    }

    fn block(&mut self, index: u32) -> &mut BlockSnapshot {
        self.blocks.entry(index).or_insert_with(|| BlockSnapshot {
            block_index: index,
            block_id: None,
            title: None,
            html: String::new(),
            status: BlockStatus::Pending,
            images: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{ImageReady, PersistComplete};

    #[test]
    fn application_events_leave_the_snapshot_as_it_was() {
        let mut s = Snapshot::default();
        s.apply(&Event::GenerationStart(crate::GenerationStart {
            session_id: "g".into(),
            total_blocks: 1,
            model: "m".into(),
        }));
        let before = s.clone();
        for (name, data) in [
            ("import.progress", r#"{"done":1,"total":2}"#),
            (
                "app.error",
                r#"{"message":"m","stage":"s","recoverable":false}"#,
            ),
            (
                "app.generation-complete",
                r#"{"success":true,"totalDuration":1}"#,
            ),
            ("x.y", "[1,2]"),
        ] {
            s.apply(&Event::from_parts(name, data).unwrap());
        }
        assert_eq!(s, before);
        assert_eq!(s.status, StreamStatus::Running);
    }

    #[test]
    fn unsafe_urls_built_in_code_stay_out_of_the_snapshot() {
        let mut s = Snapshot::default();
        s.apply(&Event::ImageReady(ImageReady {
            block_index: 0,
            image_id: "i".into(),
            url: "javascript:alert(1)".into(),
        }));
        s.apply(&Event::PersistComplete(PersistComplete {
            url: "data:text/html,x".into(),
            target: "store".into(),
        }));
        assert!(s.blocks.values().all(|b| b.images.is_empty()));
        assert_eq!(s.document_url, None);
    }
}
