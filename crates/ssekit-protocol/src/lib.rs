//! The Server-Sent Events wire format: an encoder and an incremental parser.
//!
//! No I/O and no dependencies, so the native server, the Worker (wasm32) and the clients share
//! exactly one implementation of the format.
//!
//! ```
//! use ssekit_protocol::{encode_event, Item, Parser};
//!
//! let mut buf = Vec::new();
//! encode_event(&mut buf, Some("gen_a:1"), Some("block-start"), "{\"blockIndex\":0}").unwrap();
//! assert_eq!(buf, b"event: block-start\ndata: {\"blockIndex\":0}\nid: gen_a:1\n\n");
//!
//! let mut parser = Parser::new();
//! let items = parser.push(&buf);
//! let Item::Event(event) = &items[0] else { panic!() };
//! assert_eq!((event.id.as_str(), event.event.as_str()), ("gen_a:1", "block-start"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod encode;
mod error;
mod parse;

pub use encode::{encode_comment, encode_event, encode_retry, validate_event_name, validate_id};
pub use error::{EncodeError, Field};
pub use parse::{Event, Item, Parser};
