//! In-process fan-out: one broadcast ring per stream with live subscribers.
//!
//! An entry of the ring is one append: `Arc`s of its encoded events, so an event is encoded once
//! and its bytes are shared by every subscriber; a subscriber costs a cursor into the ring, not a
//! queue of its own. One that falls more than the ring's capacity behind is told so (`Lagged`) and
//! reads what it missed from the store, on the same connection.
//!
//! An entry per append rather than per event keeps the ring small: a ring slot costs about 40
//! bytes whether it is used or not, and a ring of 1,280 events (rounded up to 2,048 slots) made
//! each stream with a subscriber 80 KB — 160 MB for 2,000 concurrent generations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::{Appended, StoredEvent};

/// Live subscribers per stream.
#[derive(Debug)]
pub struct Hub {
    capacity: usize,
    streams: Mutex<HashMap<String, broadcast::Sender<Appended>>>,
}

impl Hub {
    /// A hub whose rings keep a stream's last `buffer` appends: a subscriber further behind
    /// lags.
    pub fn new(buffer: usize) -> Self {
        Self {
            capacity: buffer.max(1),
            streams: Mutex::new(HashMap::new()),
        }
    }

    /// Subscribes to the events published for `stream` from now on.
    pub fn subscribe(&self, stream: &str) -> broadcast::Receiver<Appended> {
        let mut streams = self.streams.lock().expect("hub lock");
        match streams.get(stream) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(self.capacity);
                streams.insert(stream.to_owned(), tx);
                rx
            }
        }
    }

    /// Drops the stream's ring if no subscriber is left, so idle streams cost nothing.
    pub fn release(&self, stream: &str) {
        let mut streams = self.streams.lock().expect("hub lock");
        if streams
            .get(stream)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            streams.remove(stream);
        }
    }

    /// Hands stored events to the stream's subscribers, in order. Call only after the events are
    /// durable. After a terminal event the ring is dropped: subscribers drain it, then see `Closed`.
    pub fn publish(&self, stream: &str, events: &[Arc<StoredEvent>]) {
        let mut streams = self.streams.lock().expect("hub lock");
        let Some(tx) = streams.get(stream) else {
            return;
        };
        if !events.is_empty() {
            // An error only means no subscriber is left.
            let _ = tx.send(events.into());
        }
        let ended = events.last().is_some_and(|e| e.terminal);
        if ended || tx.receiver_count() == 0 {
            streams.remove(stream);
        }
    }
}
