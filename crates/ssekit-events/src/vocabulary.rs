//! The 13 events of DESIGN §3: names are `{noun}-{verb}`, payloads camelCase JSON.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Declares the payload structs with the derives and serde/ts-rs settings every one of them needs.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
        #[serde(rename_all = "camelCase")]
        #[ts(export)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }
    };
}

payload!(
    /// `generation-start`: the pipeline begins; always the first event of a generation.
    GenerationStart {
        /// The generation (stream) id.
        session_id: String,
        /// How many content blocks the generation will produce (placeholders are drawn for them).
        total_blocks: u32,
        /// The model (or pipeline) producing the content.
        model: String,
    }
);
payload!(
    /// `reasoning-start`: the reasoning stage begins.
    ReasoningStart {
        /// The reasoning model.
        model: String,
    }
);
payload!(
    /// `reasoning-step`: one reasoning substep.
    ReasoningStep {
        /// The step number, from 1.
        step: u32,
        /// What the step concluded.
        content: String,
    }
);
payload!(
    /// `reasoning-complete`: the reasoning stage is done.
    ReasoningComplete {
        /// Milliseconds the stage took.
        #[ts(type = "number")]
        duration: u64,
    }
);
payload!(
    /// `block-start`: a content block begins.
    BlockStart {
        /// The block's position, from 0.
        block_index: u32,
        /// A stable id for the block.
        block_id: String,
        /// The block's title.
        title: String,
    }
);
payload!(
    /// `block-content`: partial or complete HTML of a block, sanitized by the server before it is stored.
    BlockContent {
        /// The block's position.
        block_index: u32,
        /// Sanitized HTML: safe to set as `innerHTML`.
        html: String,
        /// `replace` (the default) sets the block's HTML; `append` adds to it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        mode: Option<BlockContentMode>,
    }
);
payload!(
    /// `block-complete`: a block is done.
    BlockComplete {
        /// The block's position.
        block_index: u32,
        /// The block's id.
        block_id: String,
    }
);
payload!(
    /// `image-placeholder`: an image of a block is being generated; show a placeholder.
    ImagePlaceholder {
        /// The block the image belongs to.
        block_index: u32,
        /// The image's id.
        image_id: String,
        /// Alternative text.
        alt: String,
    }
);
payload!(
    /// `image-ready`: the image is available at `url`.
    ImageReady {
        /// The block the image belongs to.
        block_index: u32,
        /// The image's id.
        image_id: String,
        /// Where the image is: an `http(s)` URL or one relative to the server (the rule of
        /// `is_safe_url`; others are refused).
        #[serde(with = "crate::url::safe_url")]
        #[ts(type = "string")]
        url: String,
    }
);
payload!(
    /// `persist-start`: saving the finished document begins.
    PersistStart {
        /// Where it is saved.
        target: String,
    }
);
payload!(
    /// `persist-complete`: the document is saved.
    PersistComplete {
        /// Where the saved document is served: an `http(s)` URL or one relative to the server
        /// (the rule of `is_safe_url`; others are refused).
        #[serde(with = "crate::url::safe_url")]
        #[ts(type = "string")]
        url: String,
        /// Where it was saved.
        target: String,
    }
);
payload!(
    /// `generation-complete`: the pipeline finished. **Terminal.**
    GenerationComplete {
        /// Whether the generation succeeded.
        success: bool,
        /// Milliseconds from start to finish.
        #[ts(type = "number")]
        total_duration: u64,
    }
);
payload!(
    /// `error`: a stage failed. See [`Event::is_terminal`] for when it ends the stream.
    ErrorEvent {
        /// What went wrong, for a person.
        message: String,
        /// The stage that failed (`reasoning`, `block`, `image`, `persist`, `cancelled`, `interrupted`, …).
        stage: String,
        /// `true`: the pipeline goes on (or, for `interrupted`, the user may start it again).
        recoverable: bool,
    }
);

/// How a `block-content` event changes its block's HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum BlockContentMode {
    /// Set the block's HTML to this event's HTML.
    #[default]
    Replace,
    /// Add this event's HTML to the end of the block's HTML.
    Append,
}

/// The stage of the error that ends a stream whose producer died (a server crash, a lost instance).
pub const STAGE_INTERRUPTED: &str = "interrupted";
/// The stage of the error that ends a cancelled generation.
pub const STAGE_CANCELLED: &str = "cancelled";

/// Declares [`Event`] and [`EventName`] and the name↔variant mappings from one list, so the
/// vocabulary is written once.
macro_rules! vocabulary {
    ($($variant:ident($payload:ident) = $name:literal),* $(,)?) => {
        /// One event of the vocabulary. Its serde form is the line format of `exec` pipelines and of
        /// the publish API: `{"event": "block-start", "data": {…}}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "event", content = "data")]
        pub enum Event {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $variant($payload),
            )*
        }

        /// The name of an event of the vocabulary.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum EventName {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl EventName {
            /// Every event name, in the order of DESIGN §3.
            pub const ALL: &'static [EventName] = &[$(EventName::$variant),*];

            /// The wire name (`block-start`, …).
            pub fn as_str(self) -> &'static str {
                match self { $(EventName::$variant => $name,)* }
            }

            /// The name for a wire name, if it is one of the vocabulary.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(EventName::$variant),)* _ => None }
            }
        }

        impl Event {
            /// The event's name.
            pub fn kind(&self) -> EventName {
                match self { $(Event::$variant(_) => EventName::$variant,)* }
            }

            /// The payload as compact JSON (one line: it becomes one SSE `data:` line).
            pub fn data_json(&self) -> String {
                // Serializing these plain structs cannot fail: no maps with non-string keys, no I/O.
                match self { $(Event::$variant(p) => serde_json::to_string(p).expect("payload serializes"),)* }
            }

            /// Builds an event from its name and its JSON payload, validating both.
            pub fn from_parts(name: &str, data: &str) -> Result<Self, VocabularyError> {
                let kind = EventName::parse(name).ok_or_else(|| VocabularyError::UnknownEvent(name.to_owned()))?;
                let invalid = |e: serde_json::Error| VocabularyError::InvalidPayload { event: kind.as_str(), reason: e.to_string() };
                Ok(match kind { $(EventName::$variant => Event::$variant(serde_json::from_str(data).map_err(invalid)?),)* })
            }

            /// Builds an event from its name and an already parsed JSON payload.
            pub fn from_value(name: &str, data: serde_json::Value) -> Result<Self, VocabularyError> {
                let kind = EventName::parse(name).ok_or_else(|| VocabularyError::UnknownEvent(name.to_owned()))?;
                let invalid = |e: serde_json::Error| VocabularyError::InvalidPayload { event: kind.as_str(), reason: e.to_string() };
                Ok(match kind { $(EventName::$variant => Event::$variant(serde_json::from_value(data).map_err(invalid)?),)* })
            }
        }
    };
}

vocabulary! {
    GenerationStart(GenerationStart) = "generation-start",
    ReasoningStart(ReasoningStart) = "reasoning-start",
    ReasoningStep(ReasoningStep) = "reasoning-step",
    ReasoningComplete(ReasoningComplete) = "reasoning-complete",
    BlockStart(BlockStart) = "block-start",
    BlockContent(BlockContent) = "block-content",
    BlockComplete(BlockComplete) = "block-complete",
    ImagePlaceholder(ImagePlaceholder) = "image-placeholder",
    ImageReady(ImageReady) = "image-ready",
    PersistStart(PersistStart) = "persist-start",
    PersistComplete(PersistComplete) = "persist-complete",
    GenerationComplete(GenerationComplete) = "generation-complete",
    Error(ErrorEvent) = "error",
}

/// Why a name or payload is not an event of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabularyError {
    /// The name is not one of the 13 events.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// The payload does not have the event's fields and types.
    #[error("invalid payload for {event}: {reason}")]
    InvalidPayload {
        /// The event whose payload was invalid.
        event: &'static str,
        /// What was wrong with it.
        reason: String,
    },
}

impl Event {
    /// The event's wire name (`block-start`, …).
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether this event ends its stream: `generation-complete`, a non-recoverable `error`, or
    /// the `interrupted` error of a producer that died (recoverable: the user may start again,
    /// but nothing more will come on this stream).
    pub fn is_terminal(&self) -> bool {
        match self {
            Event::GenerationComplete(_) => true,
            Event::Error(e) => !e.recoverable || e.stage == STAGE_INTERRUPTED,
            _ => false,
        }
    }

    /// A terminal `error` event.
    pub fn fatal(stage: &str, message: impl Into<String>) -> Self {
        Event::Error(ErrorEvent {
            message: message.into(),
            stage: stage.to_owned(),
            recoverable: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_design() {
        let names: Vec<_> = EventName::ALL.iter().map(|n| n.as_str()).collect();
        assert_eq!(names.len(), 13);
        assert_eq!(names[0], "generation-start");
        assert_eq!(names[12], "error");
        for n in EventName::ALL {
            assert_eq!(EventName::parse(n.as_str()), Some(*n));
        }
    }

    #[test]
    fn line_format_round_trips() {
        let line = r#"{"event":"block-content","data":{"blockIndex":2,"html":"<p>x</p>","mode":"append"}}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&event).unwrap(), line);
        assert_eq!(event.name(), "block-content");
    }

    #[test]
    fn validates_payloads() {
        assert!(matches!(
            Event::from_parts("block-started", "{}"),
            Err(VocabularyError::UnknownEvent(_))
        ));
        assert!(matches!(
            Event::from_parts("block-start", r#"{"blockIndex":"x"}"#),
            Err(VocabularyError::InvalidPayload { .. })
        ));
        assert!(
            Event::from_parts("error", r#"{"message":"m","stage":"s","recoverable":true}"#).is_ok()
        );
    }

    #[test]
    fn urls_must_be_http_or_relative() {
        for (name, data) in [
            (
                "image-ready",
                r#"{"blockIndex":0,"imageId":"i","url":"URL"}"#,
            ),
            ("persist-complete", r#"{"url":"URL","target":"store"}"#),
        ] {
            for ok in ["/v1/generations/g/document", "https://cdn.example/a.png"] {
                assert!(Event::from_parts(name, &data.replace("URL", ok)).is_ok());
            }
            for bad in [
                "javascript:alert(1)",
                "data:text/html,<script>alert(1)</script>",
            ] {
                let json = data.replace("URL", bad);
                let err = Event::from_parts(name, &json).unwrap_err();
                assert!(
                    matches!(err, VocabularyError::InvalidPayload { .. }),
                    "{err}"
                );
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                assert!(Event::from_value(name, value).is_err());
                // The line format of `exec` pipelines goes through the same check.
                let line = format!(r#"{{"event":"{name}","data":{json}}}"#);
                assert!(serde_json::from_str::<Event>(&line).is_err());
            }
        }
    }

    #[test]
    fn terminal_rule() {
        let err = |stage: &str, recoverable| {
            Event::Error(ErrorEvent {
                message: "m".into(),
                stage: stage.into(),
                recoverable,
            })
        };
        assert!(err("image", false).is_terminal());
        assert!(!err("image", true).is_terminal());
        assert!(err(STAGE_INTERRUPTED, true).is_terminal());
        assert!(Event::GenerationComplete(GenerationComplete {
            success: true,
            total_duration: 1
        })
        .is_terminal());
    }
}
