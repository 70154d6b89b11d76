//! In-process fan-out: one broadcast ring per stream with live subscribers.
//!
//! An entry of the ring is one append: `Arc`s of its encoded events, so an event is encoded once
//! and its bytes are shared by every subscriber; a subscriber costs a cursor into the ring, not a
//! queue of its own. One that falls more than the ring's capacity behind is told so (`Lagged`) and
//! reads what it missed from the store, on the same connection.
//!
//! An entry per append rather than per event keeps the ring small: a ring slot costs its size
//! whether it is used or not, in every stream with a subscriber, and an append is often a batch
//! (BENCHMARKS.md, "The live ring holds appends, not events").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

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

    /// Subscribes to the events published for `stream` from now on. Dropping the [`Live`] frees
    /// the stream's ring once no subscriber is left.
    pub fn subscribe(self: &Arc<Self>, stream: &str) -> Live {
        let mut streams = self.streams.lock().expect("hub lock");
        let rx = match streams.get(stream) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(self.capacity);
                streams.insert(stream.to_owned(), tx);
                rx
            }
        };
        Live {
            rx: Some(rx),
            hub: self.clone(),
            stream: stream.into(),
        }
    }

    /// Drops the stream's ring if no subscriber is left, so idle streams cost nothing.
    fn release(&self, stream: &str) {
        let mut streams = self.streams.lock().expect("hub lock");
        if streams
            .get(stream)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            streams.remove(stream);
        }
    }

    /// How many subscribers `stream` has now (a store that feeds the hub from elsewhere, such as
    /// the redis store's follower of a stream, stops when none is left).
    pub fn subscribers(&self, stream: &str) -> usize {
        let streams = self.streams.lock().expect("hub lock");
        streams.get(stream).map_or(0, |tx| tx.receiver_count())
    }

    /// How many streams have a ring (a live subscriber, or appends not yet seen to end it).
    pub fn streams(&self) -> usize {
        self.streams.lock().expect("hub lock").len()
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

/// A live tail: every append to one stream from the moment it was taken, one entry per append.
/// Dropping it releases the stream's ring when it was the last subscriber, so no caller can
/// forget to.
///
/// ```
/// use std::sync::Arc;
/// use ssekit_server::store::Hub;
///
/// let hub = Arc::new(Hub::new(16));
/// let live = hub.subscribe("s");
/// assert_eq!(hub.streams(), 1);
/// drop(live);
/// assert_eq!(hub.streams(), 0, "no subscriber left: the ring is gone");
/// ```
#[derive(Debug)]
pub struct Live {
    /// Always `Some` until dropped: taken first in `drop`, so the release sees it gone.
    rx: Option<broadcast::Receiver<Appended>>,
    hub: Arc<Hub>,
    stream: Box<str>,
}

impl Live {
    fn rx(&mut self) -> &mut broadcast::Receiver<Appended> {
        self.rx.as_mut().expect("a receiver until dropped")
    }

    /// The next append. `Lagged`: the subscriber fell a whole ring behind (read the rest from the
    /// store); `Closed`: the ring was dropped (the stream ended, or it had no subscriber left).
    pub async fn recv(&mut self) -> Result<Appended, RecvError> {
        self.rx().recv().await
    }

    /// The next append if the ring holds one already.
    pub fn try_recv(&mut self) -> Result<Appended, TryRecvError> {
        self.rx().try_recv()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        drop(self.rx.take());
        self.hub.release(&self.stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_last_live_tail_frees_the_ring() {
        let hub = Arc::new(Hub::new(4));
        let a = hub.subscribe("s");
        let b = hub.subscribe("s");
        let other = hub.subscribe("t");
        assert_eq!(hub.streams(), 2);
        drop(a);
        assert_eq!(hub.streams(), 2, "b still listens to s");
        drop(b);
        assert_eq!(hub.streams(), 1, "s's ring went with its last subscriber");
        drop(other);
        assert_eq!(hub.streams(), 0);
    }

    #[tokio::test]
    async fn a_tail_of_an_ended_ring_dropped_late_leaves_the_new_ring_alone() {
        let hub = Arc::new(Hub::new(4));
        let mut old = hub.subscribe("s");
        let end = Arc::new(StoredEvent::encode(
            "s",
            1,
            ssekit_events::EventKind::parse("generation-complete").unwrap(),
            r#"{"success":true,"totalDuration":1}"#,
            true,
        ));
        hub.publish("s", &[end]);
        assert_eq!(old.recv().await.unwrap().len(), 1);
        assert!(matches!(old.recv().await, Err(RecvError::Closed)));
        // As sse.rs does on `Closed`: subscribe again, then let the old tail go.
        let new = hub.subscribe("s");
        drop(old);
        assert_eq!(hub.streams(), 1, "the new subscriber's ring stays");
        drop(new);
        assert_eq!(hub.streams(), 0);
    }
}
