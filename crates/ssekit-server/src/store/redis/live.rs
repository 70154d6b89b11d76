//! Live fan-out across instances.
//!
//! The Redis Stream is the record; pub/sub only wakes. An instance subscribes once per stream
//! that has local subscribers, and one task per such stream, its follower, feeds the local
//! [`Hub`]: it keeps the last position it handed the hub and reads whatever lies beyond it with
//! `XRANGE` — when a wake-up names a later position, after the pub/sub connection dropped or
//! (re)subscribed, and every [`POLL`] regardless. Lost notifications (disconnects, output-buffer
//! limits, failovers) therefore cost latency, never events. A small append (names and payloads
//! up to 8 KiB) travels whole in its notification: the follower hands it on without reading
//! when it starts right after the follower's position, and reads otherwise. It subscribes
//! first and reads second, so nothing falls between the two; events reach the hub in order,
//! each once (one follower per stream, its position only grows). It stops once the hub has no
//! subscriber left for the stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::{PushInfo, PushKind, Value};
use ssekit_events::EventKind;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::conn::{Conn, PubSub, Target};
use super::keys::{stream_of_channel, StreamKeys};
use super::{parse_entries, Entry};
use crate::store::{Hub, Live, StoreError, StoredEvent};

/// How often a follower reads its stream even without a wake-up.
pub(super) const POLL: Duration = Duration::from_secs(2);
/// Entries per `XRANGE` of a follower.
const PAGE: usize = 512;
/// Positions remembered for streams this instance touched; past this, forgotten all at once.
const KNOWN_MAX: usize = 100_000;

enum Wake {
    /// A notification: an append ended at this position; its events, when small enough to
    /// travel with it.
    Upto(u64, Option<Vec<Arc<StoredEvent>>>),
    /// The subscription may have missed notifications: read.
    Resync,
}

pub(super) struct Fanout {
    prefix: String,
    hub: Arc<Hub>,
    conn: Conn,
    pubsub: PubSub,
    followers: Mutex<HashMap<String, UnboundedSender<Wake>>>,
    /// The last position this instance saw of recently touched streams (never above the real
    /// one): where a new follower starts, so an append right after `subscribe` reaches it. A
    /// follower without one reads the position after subscribing; a subscriber that read its
    /// history earlier then sees a gap and fills it from the store.
    known: Mutex<HashMap<String, u64>>,
}

impl Fanout {
    pub fn open(
        target: &Target,
        prefix: &str,
        conn: Conn,
        buffer: usize,
    ) -> redis::RedisResult<Arc<Self>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let pubsub = PubSub::open(target, tx)?;
        let fanout = Arc::new(Self {
            prefix: prefix.to_owned(),
            hub: Arc::new(Hub::new(buffer)),
            conn,
            pubsub,
            followers: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
        });
        tokio::spawn(dispatch(Arc::downgrade(&fanout), rx));
        tokio::spawn(keep(Arc::downgrade(&fanout)));
        Ok(fanout)
    }

    /// Remembers that `id` has reached `seq` (at least).
    pub fn note(&self, id: &str, seq: u64) {
        let mut known = self.known.lock().expect("known lock");
        if known.len() >= KNOWN_MAX && !known.contains_key(id) {
            known.clear();
        }
        let at = known.entry(id.to_owned()).or_insert(seq);
        *at = (*at).max(seq);
    }

    /// Forgets `id` (it ended).
    pub fn forget(&self, id: &str) {
        self.known.lock().expect("known lock").remove(id);
    }

    pub fn subscribe(self: &Arc<Self>, id: &str) -> Live {
        let mut followers = self.followers.lock().expect("followers lock");
        let live = self.hub.subscribe(id);
        if !followers.contains_key(id) {
            let (tx, rx) = mpsc::unbounded_channel();
            followers.insert(id.to_owned(), tx);
            let start = self.known.lock().expect("known lock").get(id).copied();
            tokio::spawn(follow(self.clone(), id.to_owned(), start, rx));
        }
        live
    }

    /// Whether the follower of `id` should stop; if so it is removed, under the same lock that
    /// `subscribe` takes, so a new subscriber either finds it running or starts another.
    fn stop(&self, id: &str) -> bool {
        let mut followers = self.followers.lock().expect("followers lock");
        if self.hub.subscribers(id) == 0 {
            followers.remove(id);
            true
        } else {
            false
        }
    }

    fn wake(&self, id: &str, wake: Wake) {
        if let Some(tx) = self.followers.lock().expect("followers lock").get(id) {
            let _ = tx.send(wake);
        }
    }

    fn wake_all(&self) {
        for tx in self.followers.lock().expect("followers lock").values() {
            let _ = tx.send(Wake::Resync);
        }
    }

    /// Followers running now.
    pub fn followers(&self) -> usize {
        self.followers.lock().expect("followers lock").len()
    }
}

/// Routes pushes of the pub/sub connection to the followers.
async fn dispatch(fanout: Weak<Fanout>, mut pushes: UnboundedReceiver<PushInfo>) {
    while let Some(push) = pushes.recv().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        let channel = push.data.first().and_then(text);
        let id = channel
            .as_deref()
            .and_then(|c| stream_of_channel(&fanout.prefix, c));
        match (push.kind, id) {
            (PushKind::Message | PushKind::SMessage, Some(id)) => {
                let wake = push
                    .data
                    .get(1)
                    .and_then(text)
                    .and_then(|m| parse_wake(id, &m));
                fanout.wake(id, wake.unwrap_or(Wake::Resync));
            }
            // Subscribed (again, after a reconnect): what was published meanwhile was lost.
            (PushKind::Subscribe | PushKind::SSubscribe, Some(id)) => fanout.wake(id, Wake::Resync),
            (PushKind::Disconnection, _) => {
                tracing::debug!("redis pub/sub connection dropped; followers re-read");
                fanout.wake_all();
            }
            _ => {}
        }
    }
}

/// Pings the pub/sub connection while streams are followed: a dropped connection reconnects
/// (and subscribes again) even when nothing else would use it.
async fn keep(fanout: Weak<Fanout>) {
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        if fanout.followers() == 0 {
            continue;
        }
        let mut pubsub = fanout.pubsub.clone();
        drop(fanout);
        if let Err(e) = pubsub.ping().await {
            tracing::debug!(error = %e, "redis pub/sub ping failed");
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A notification `<first>:<last>[:<1 if it ends the stream>:<JSON [name, payload, …]>]`.
fn parse_wake(id: &str, message: &str) -> Option<Wake> {
    let mut parts = message.splitn(4, ':');
    let first: u64 = parts.next()?.parse().ok()?;
    let last: u64 = parts.next()?.parse().ok()?;
    let events = (|| {
        let ends = parts.next()? == "1";
        let flat: Vec<String> = serde_json::from_str(parts.next()?).ok()?;
        let n = flat.len() / 2;
        if first == 0 || last + 1 < first || (last + 1 - first) as usize != n || n == 0 {
            return None;
        }
        flat.chunks_exact(2)
            .enumerate()
            .map(|(i, pair)| {
                let kind = EventKind::parse(&pair[0]).ok()?;
                let terminal = ends && i + 1 == n;
                let seq = first + i as u64;
                Some(Arc::new(StoredEvent::encode(
                    id, seq, kind, &pair[1], terminal,
                )))
            })
            .collect::<Option<Vec<_>>>()
    })();
    Some(Wake::Upto(last, events))
}

/// The follower of one stream.
async fn follow(
    fanout: Arc<Fanout>,
    id: String,
    start: Option<u64>,
    mut wakes: UnboundedReceiver<Wake>,
) {
    let keys = StreamKeys::new(&fanout.prefix, &id);
    let mut pubsub = fanout.pubsub.clone();
    let mut subscribed = false;
    let mut pos = start;
    let mut ended = false;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        if !subscribed {
            match pubsub.subscribe(&keys.live).await {
                Ok(()) => subscribed = true,
                Err(e) => tracing::debug!(stream = %id, error = %e, "subscribing failed; retrying"),
            }
        }
        if subscribed && !ended {
            match catch_up(&fanout, &id, &keys, pos).await {
                Ok((p, end)) => {
                    pos = Some(p);
                    ended = end;
                }
                Err(e) => tracing::debug!(stream = %id, error = %e, "following a stream"),
            }
        }
        // Wait for a reason to read again: a wake-up beyond our position, a resync, the poll.
        loop {
            tokio::select! {
                wake = wakes.recv() => match wake {
                    None => break,
                    Some(Wake::Upto(upto, _)) if pos.is_some_and(|p| upto <= p) => {
                        if fanout.stop(&id) { return finish(pubsub, &keys, subscribed).await; }
                        continue;
                    }
                    // The append right after our position, carried whole: no need to read it.
                    Some(Wake::Upto(upto, Some(events)))
                        if !ended && pos.is_some_and(|p| events[0].seq == p + 1) =>
                    {
                        ended = events.last().is_some_and(|e| e.terminal);
                        fanout.hub.publish(&id, &events);
                        pos = Some(upto);
                        if fanout.stop(&id) { return finish(pubsub, &keys, subscribed).await; }
                        continue;
                    }
                    Some(_) => break,
                },
                _ = tick.tick() => break,
            }
        }
        // Coalesce wake-ups queued meanwhile: one read serves them all.
        while wakes.try_recv().is_ok() {}
        if fanout.stop(&id) {
            return finish(pubsub, &keys, subscribed).await;
        }
    }
}

async fn finish(mut pubsub: PubSub, keys: &StreamKeys, subscribed: bool) {
    if subscribed {
        let _ = pubsub.unsubscribe(&keys.live).await;
    }
}

/// Hands the hub every event after `pos` (read from the stream's position when `None`), one
/// ring entry per append. Returns the new position and whether the stream has ended.
async fn catch_up(
    fanout: &Fanout,
    id: &str,
    keys: &StreamKeys,
    pos: Option<u64>,
) -> Result<(u64, bool), StoreError> {
    let mut conn = fanout.conn.clone();
    let mut pos = match pos {
        Some(p) => p,
        None => {
            let (last, status): (Option<u64>, Option<String>) = redis::cmd("HMGET")
                .arg(&keys.meta)
                .arg("last_seq")
                .arg("status")
                .query_async(&mut conn)
                .await
                .map_err(super::backend)?;
            match (last, status.as_deref()) {
                (Some(last), Some("running")) => last,
                // Ended, expired or unknown: nothing more will come.
                (Some(last), _) => return Ok((last, true)),
                (None, _) => return Ok((0, true)),
            }
        }
    };
    let mut batch: Vec<Arc<StoredEvent>> = Vec::new();
    loop {
        let page: Value = redis::cmd("XRANGE")
            .arg(&keys.events)
            .arg(format!("{}-0", pos + batch.len() as u64 + 1))
            .arg("+")
            .arg("COUNT")
            .arg(PAGE)
            .query_async(&mut conn)
            .await
            .map_err(super::backend)?;
        let entries: Vec<Entry> = parse_entries(id, page)?;
        let full = entries.len() == PAGE;
        for entry in entries {
            let expected = pos + batch.len() as u64 + 1;
            if entry.event.seq != expected {
                return Err(StoreError::Corrupt(format!(
                    "stream {id}: position {} where {expected} was due",
                    entry.event.seq
                )));
            }
            let terminal = entry.event.terminal;
            batch.push(entry.event);
            if entry.batch_end || terminal {
                pos += batch.len() as u64;
                fanout.hub.publish(id, &std::mem::take(&mut batch));
                if terminal {
                    return Ok((pos, true));
                }
            }
        }
        if !full {
            // A batch is written whole by one script: a page never ends inside one unless a
            // full page did. Left over here only if written by an older layout: hand it on.
            if !batch.is_empty() {
                pos += batch.len() as u64;
                fanout.hub.publish(id, &std::mem::take(&mut batch));
            }
            return Ok((pos, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carried(wake: Option<Wake>) -> (u64, Option<Vec<(u64, bool)>>) {
        match wake {
            Some(Wake::Upto(upto, events)) => (
                upto,
                events.map(|e| e.iter().map(|e| (e.seq, e.terminal)).collect()),
            ),
            _ => panic!("not a notification"),
        }
    }

    #[test]
    fn a_notification_carries_a_small_append() {
        let both = r#"3:4:1:["reasoning-step","{\"step\":1}","generation-complete","{}"]"#;
        assert_eq!(
            carried(parse_wake("s", both)),
            (4, Some(vec![(3, false), (4, true)]))
        );
        // Without events, or with the wrong number of them: only a wake-up.
        assert_eq!(carried(parse_wake("s", "3:4")), (4, None));
        assert_eq!(
            carried(parse_wake("s", r#"3:4:0:["reasoning-step","{}"]"#)),
            (4, None)
        );
        assert!(parse_wake("s", "x").is_none());
    }
}
