//! A reconnecting consumer of ssekit streams.
//!
//! A [`Subscription`] follows an events URL: it sends the last id it received as
//! `Last-Event-ID` whenever it has to reconnect, drops duplicates, waits with exponential
//! backoff between failed attempts, and ends on the stream's terminal event, on `204 No Content`,
//! or on a response that retrying cannot fix. Application events (`import.progress`, …) arrive
//! like the others, as [`Event::App`](ssekit_events::Event::App); [`Received::app`] reads one's
//! data as the caller's type.
//!
//! ```no_run
//! # async fn run() {
//! use ssekit_client::{Options, Subscription, Update};
//!
//! #[derive(serde::Deserialize)]
//! struct Progress { done: u64, total: u64 }
//!
//! let mut sub = Subscription::new("http://127.0.0.1:8080/v1/generations/gen_x/events", Options::default());
//! while let Some(update) = sub.next().await {
//!     match update {
//!         Ok(Update::Event(e)) => match e.app::<Progress>("import.progress") {
//!             Some(Ok(p)) => println!("{}/{}", p.done, p.total),
//!             _ => println!("{} {}", e.id, e.event.name()),
//!         },
//!         Ok(Update::Reconnecting { after, delay, .. }) => println!("resuming after {after:?} in {delay:?}"),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backoff;
mod error;
mod subscription;

pub use backoff::{Backoff, InvalidBackoff};
pub use error::ClientError;
pub use subscription::{Options, Received, Subscription, Update};
