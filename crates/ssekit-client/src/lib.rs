//! A reconnecting consumer of ssekit streams.
//!
//! A [`Subscription`] follows an events URL: it sends the last id it received as
//! `Last-Event-ID` whenever it has to reconnect, drops duplicates, waits with exponential
//! backoff between failed attempts, and ends on the stream's terminal event, on `204 No Content`,
//! or on a response that retrying cannot fix.
//!
//! ```no_run
//! # async fn run() {
//! use ssekit_client::{Options, Subscription, Update};
//!
//! let mut sub = Subscription::new("http://127.0.0.1:8080/v1/generations/gen_x/events", Options::default());
//! while let Some(update) = sub.next().await {
//!     match update {
//!         Ok(Update::Event(e)) => println!("{} {}", e.id, e.event.name()),
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
