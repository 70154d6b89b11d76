//! The 13 events of DESIGN §3 — names are `{noun}-{verb}`, payloads camelCase JSON — and the
//! [`Event`] type that also carries application events (see [`crate::AppName`]).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

use crate::app::{AppEvent, AppName, APP_NAME_RULE, MAX_APP_NAME};

/// Declares the payload structs with the derives and serde/ts-rs settings every one of them needs.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
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
        /// One event: of the vocabulary, or an application's ([`Event::App`]). Its serde form is
        /// the line format of `exec` pipelines and of the publish API:
        /// `{"event": "block-start", "data": {…}}`, parsed through [`Event::from_value`].
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant($payload),
            )*
            /// An application event: a `namespace.name` outside the vocabulary, any JSON data.
            /// Never terminal; snapshots ignore it.
            App(AppEvent),
        }

        /// The name of an event of the vocabulary.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
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

            /// The name of the payload type (and of its OpenAPI schema): `BlockStart`, ….
            pub fn payload_type(self) -> &'static str {
                match self { $(EventName::$variant => stringify!($payload),)* }
            }

            /// Each payload type's name and JSON schema, in the order of [`EventName::ALL`]
            /// (for the OpenAPI document).
            pub fn payload_schemas() -> Vec<(&'static str, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
                vec![$((stringify!($payload), <$payload as utoipa::PartialSchema>::schema()),)*]
            }

            /// The name for a wire name, if it is one of the vocabulary.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(EventName::$variant),)* _ => None }
            }
        }

        impl Event {
            /// The event's name: one of the vocabulary, or the application event's.
            pub fn kind(&self) -> EventKind {
                match self {
                    $(Event::$variant(_) => EventKind::Builtin(EventName::$variant),)*
                    Event::App(e) => EventKind::App(e.name.clone()),
                }
            }

            /// The event's wire name (`block-start`, `import.progress`, …).
            pub fn name(&self) -> &str {
                match self {
                    $(Event::$variant(_) => $name,)*
                    Event::App(e) => e.name.as_str(),
                }
            }

            /// The payload as compact JSON (one line: it becomes one SSE `data:` line).
            pub fn data_json(&self) -> String {
                // Serializing these cannot fail: plain structs and JSON values, no maps with
                // non-string keys, no I/O.
                match self {
                    $(Event::$variant(p) => serde_json::to_string(p),)*
                    Event::App(e) => serde_json::to_string(&e.data),
                }
                .expect("payload serializes")
            }

            /// The one place a name and a payload become an event: the payload is read as the
            /// named event's type, or as any JSON value for an application event.
            fn decode<'de, D: Deserializer<'de>>(kind: EventKind, data: D) -> Result<Self, D::Error> {
                Ok(match kind {
                    $(EventKind::Builtin(EventName::$variant) => Event::$variant($payload::deserialize(data)?),)*
                    EventKind::App(name) => Event::App(AppEvent { name, data: serde_json::Value::deserialize(data)? }),
                })
            }
        }

        impl Serialize for Event {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("event", self.name())?;
                match self {
                    $(Event::$variant(p) => map.serialize_entry("data", p)?,)*
                    Event::App(e) => map.serialize_entry("data", &e.data)?,
                }
                map.end()
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

/// An event's name: one of the vocabulary's, or an application event's. What a store keeps
/// beside an event's payload.
///
/// ```
/// use ssekit_events::{EventKind, EventName};
/// assert_eq!(EventKind::parse("block-start").unwrap(), EventKind::Builtin(EventName::BlockStart));
/// assert_eq!(EventKind::parse("import.progress").unwrap().as_str(), "import.progress");
/// assert!(EventKind::parse("block-started").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// One of the 13 events of the vocabulary.
    Builtin(EventName),
    /// An application event's name.
    App(AppName),
}

impl EventKind {
    /// The kind a wire name names: a name of the vocabulary, else an application event's name;
    /// anything else is [`VocabularyError::UnknownEvent`].
    pub fn parse(name: &str) -> Result<Self, VocabularyError> {
        match EventName::parse(name) {
            Some(builtin) => Ok(EventKind::Builtin(builtin)),
            None => AppName::new(name).map(EventKind::App),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Builtin(name) => name.as_str(),
            EventKind::App(name) => name.as_str(),
        }
    }
}

impl From<EventName> for EventKind {
    fn from(name: EventName) -> Self {
        EventKind::Builtin(name)
    }
}

/// Why a name or payload is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabularyError {
    /// The name is neither one of the 13 events nor an application event's name.
    #[error("unknown event {0:?}: not one of the 13 built-in events, and {rule}", rule = APP_NAME_RULE)]
    UnknownEvent(String),
    /// The payload does not have the event's fields and types (or is not JSON).
    #[error("invalid payload for {event}: {reason}")]
    InvalidPayload {
        /// The event whose payload was invalid.
        event: String,
        /// What was wrong with it.
        reason: String,
    },
}

impl VocabularyError {
    /// An unknown name, cut to a length fit for an error message.
    pub(crate) fn unknown(name: &str) -> Self {
        let end = name
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .take_while(|&end| end <= MAX_APP_NAME + 16)
            .last()
            .unwrap_or(0);
        let mut shown = name[..end].to_owned();
        if end < name.len() {
            shown.push('…');
        }
        VocabularyError::UnknownEvent(shown)
    }

    fn invalid(name: &str, e: serde_json::Error) -> Self {
        VocabularyError::InvalidPayload {
            event: name.to_owned(),
            reason: e.to_string(),
        }
    }
}

impl Event {
    /// Builds an event from its name and its JSON payload, validating both: a name of the
    /// vocabulary takes its event's payload, an application event's name (see [`AppName`]) any
    /// JSON value; any other name is refused.
    pub fn from_parts(name: &str, data: &str) -> Result<Self, VocabularyError> {
        let kind = EventKind::parse(name)?;
        let mut de = serde_json::Deserializer::from_str(data);
        Self::decode(kind, &mut de)
            .and_then(|event| de.end().map(|()| event))
            .map_err(|e| VocabularyError::invalid(name, e))
    }

    /// Builds an event from its name and an already parsed JSON payload, as
    /// [`from_parts`](Event::from_parts) does.
    pub fn from_value(name: &str, data: serde_json::Value) -> Result<Self, VocabularyError> {
        let kind = EventKind::parse(name)?;
        Self::decode(kind, data).map_err(|e| VocabularyError::invalid(name, e))
    }

    /// An application event (see [`AppName`] for the rule its name must follow).
    ///
    /// ```
    /// let e = ssekit_events::Event::app("import.progress", serde_json::json!({"done": 1})).unwrap();
    /// assert_eq!(e.data_json(), r#"{"done":1}"#);
    /// ```
    pub fn app(name: &str, data: serde_json::Value) -> Result<Self, VocabularyError> {
        AppEvent::new(name, data).map(Event::App)
    }

    /// Whether this event ends its stream: `generation-complete`, a non-recoverable `error`, or
    /// the `interrupted` error of a producer that died (recoverable: the user may start again,
    /// but nothing more will come on this stream). Never an application event.
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

/// The line format: `{"event": NAME, "data": PAYLOAD}`, checked by [`Event::from_value`]. A
/// missing `data` is `null` (an application event may carry nothing).
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Line {
            event: String,
            #[serde(default)]
            data: serde_json::Value,
        }
        let line = Line::deserialize(d)?;
        Event::from_value(&line.event, line.data).map_err(serde::de::Error::custom)
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
    fn no_name_of_the_vocabulary_can_be_an_application_event_name() {
        for n in EventName::ALL {
            assert!(!n.as_str().contains('.'), "{n:?}");
            assert!(!crate::is_app_name(n.as_str()));
            assert_eq!(
                EventKind::parse(n.as_str()).unwrap(),
                EventKind::Builtin(*n)
            );
        }
    }

    #[test]
    fn application_events_take_any_json_value() {
        for data in [
            r#"{"done":3,"total":10}"#,
            r#"[1,"two",{"three":3}]"#,
            r#""a string""#,
            "42",
            "-1.5",
            "true",
            "null",
            r#"{"html":"<script>x()</script>"}"#,
        ] {
            let event = Event::from_parts("import.progress", data).unwrap();
            let Event::App(app) = &event else {
                panic!("{event:?}")
            };
            assert_eq!(app.name, "import.progress");
            assert_eq!(event.name(), "import.progress");
            assert_eq!(event.kind().as_str(), "import.progress");
            // Carried as it came: compact, untouched (ssekit does not read it).
            assert_eq!(event.data_json(), data);
            assert!(!event.is_terminal());
            let value: serde_json::Value = serde_json::from_str(data).unwrap();
            assert_eq!(Event::from_value("import.progress", value).unwrap(), event);
            let line = format!(r#"{{"event":"import.progress","data":{data}}}"#);
            assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), event);
            assert_eq!(serde_json::to_string(&event).unwrap(), line);
        }
        // Without data: null.
        let bare: Event = serde_json::from_str(r#"{"event":"build.done"}"#).unwrap();
        assert_eq!(bare.data_json(), "null");
        // Not JSON, or JSON with trailing bytes: refused like a bad built-in payload.
        for bad in ["", "{", "1 2", "{\"a\":1} x"] {
            assert!(matches!(
                Event::from_parts("import.progress", bad),
                Err(VocabularyError::InvalidPayload { .. })
            ));
        }
        // Even an application event shaped like a terminal one ends nothing.
        let lookalike = Event::from_parts(
            "app.error",
            r#"{"message":"m","stage":"s","recoverable":false}"#,
        )
        .unwrap();
        assert!(!lookalike.is_terminal());
    }

    #[test]
    fn unknown_names_are_refused_with_the_rule() {
        for bad in [
            "block-started",
            "progress",
            "Import.progress",
            "import progress.x",
            "import.progress\nevent: x",
            "import:x.y",
            "import.",
            "",
        ] {
            let err = Event::from_parts(bad, "{}").unwrap_err();
            assert!(matches!(err, VocabularyError::UnknownEvent(_)), "{bad:?}");
            let message = err.to_string();
            assert!(message.contains("namespace.name"), "{message}");
            assert!(message.contains("at most 64 bytes"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
        let long = format!("a.{}", "é".repeat(10_000));
        let message = Event::from_parts(&long, "{}").unwrap_err().to_string();
        assert!(message.len() < 400, "{message}");
    }

    #[test]
    fn built_in_events_are_validated_as_before() {
        let err = Event::from_parts("block-start", "{}").unwrap_err();
        assert_eq!(
            err,
            VocabularyError::InvalidPayload {
                event: "block-start".into(),
                reason: "missing field `blockIndex` at line 1 column 2".into()
            }
        );
        assert!(serde_json::from_str::<Event>(r#"{"event":"block-start"}"#).is_err());
        assert!(serde_json::from_str::<Event>(r#"{"data":{}}"#).is_err());
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
