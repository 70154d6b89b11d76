//! The typed event vocabulary of ssekit.
//!
//! Every stream ssekit serves is a sequence of events, each carried with an [`EventId`] that
//! names its stream and its position: the 13 events of the vocabulary, and application events
//! ([`AppEvent`]: a `namespace.name` and any JSON data), which ssekit carries without reading. The native server, the Worker and the Rust
//! client share these types, and the web client's TypeScript types are generated from them
//! (ts-rs), so every part speaks exactly the same vocabulary.
//!
//! ```
//! use ssekit_events::{Event, BlockStart, EventId};
//!
//! let event = Event::BlockStart(BlockStart { block_index: 0, block_id: "b0".into(), title: "Intro".into() });
//! assert_eq!(event.name(), "block-start");
//! assert_eq!(event.data_json(), r#"{"blockIndex":0,"blockId":"b0","title":"Intro"}"#);
//!
//! // The wire form of a line of an `exec` pipeline, or of the publish API.
//! let parsed = Event::from_parts("block-start", r#"{"blockIndex":0,"blockId":"b0","title":"Intro"}"#).unwrap();
//! assert_eq!(parsed, event);
//!
//! // An application event: a name with a dot, any JSON data.
//! let app = Event::from_parts("import.progress", r#"{"done":3,"total":10}"#).unwrap();
//! assert!(matches!(app, Event::App(_)) && !app.is_terminal());
//! assert!(Event::from_parts("import", "{}").is_err());
//!
//! let id: EventId = "gen_abc:7".parse().unwrap();
//! assert_eq!((id.stream(), id.seq()), ("gen_abc", 7));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app;
mod id;
mod snapshot;
mod url;
mod vocabulary;

pub use app::{is_app_name, AppEvent, AppName, APP_NAME_PATTERN, APP_NAME_RULE, MAX_APP_NAME};
pub use id::{validate_stream_id, EventId, IdError};
pub use snapshot::{BlockSnapshot, BlockStatus, ImageSnapshot, Snapshot, StreamStatus};
pub use url::is_safe_url;
pub use vocabulary::*;
