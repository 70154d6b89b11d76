//! The SSE response of a stream: history after the client's id, then live events, then the end.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use ssekit_events::EventId;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::error::ApiError;
use crate::store::{Appended, Live, StoredEvent};
use crate::AppState;

/// Most events read from the store per page while catching up.
pub const PAGE: usize = 1024;
/// A page ends once its frames reach this many bytes. A page is joined into one write, and a
/// subscriber that stops reading holds that write (and nothing else of the history) until the
/// stall timeout: this, or one event when an event is larger, is all a stalled subscriber pins.
/// Bounded by [`PAGE`] alone, a page of large events pinned megabytes per subscriber, twice (its
/// rows and their joined copy). The Worker's bound too, and large enough that a page of small
/// events is still cut by [`PAGE`], so replay takes no more reads (BENCHMARKS.md,
/// "Hostile-client bounds").
pub const PAGE_BYTES: usize = 128 * 1024;
use ssekit_api::stream::{KEEPALIVE, STREAM_HEADERS};

/// A subscription that passed every check: the events to send, as a stream of byte chunks.
pub struct Subscription {
    state: AppState,
    id: String,
    after: u64,
}

/// What a subscribe request gets.
pub enum Opened {
    /// The client has the terminal event: 204 tells EventSource to stop reconnecting.
    NoContent,
    /// A stream to send.
    Stream(Subscription),
}

/// Checks a subscribe request to stream `id` from a client that has seen up to `after`.
pub async fn open(state: &AppState, id: &str, after: Option<EventId>) -> Result<Opened, ApiError> {
    let meta = state.store.meta(id).await?;
    let after_seq = ssekit_api::resume_after(id, after.as_ref(), meta.last_seq)?;
    if meta.finished() && after_seq == meta.last_seq {
        return Ok(Opened::NoContent);
    }
    if after.is_some() {
        state.metrics.resumes.inc();
    }
    Ok(Opened::Stream(Subscription {
        state: state.clone(),
        id: id.to_owned(),
        after: after_seq,
    }))
}

/// The SSE response of stream `id`, for the axum routes; `keep_alive`: see [`KeepAlive`](crate::extract::KeepAlive).
pub async fn subscribe(
    state: &AppState,
    id: &str,
    after: Option<EventId>,
    keep_alive: bool,
) -> Result<Response, ApiError> {
    let sub = match open(state, id, after).await? {
        Opened::NoContent => return Ok(StatusCode::NO_CONTENT.into_response()),
        Opened::Stream(sub) => sub,
    };
    let mut res = Response::new(Body::from_stream(sub.into_stream()));
    for (name, value) in STREAM_HEADERS {
        res.headers_mut()
            .insert(*name, HeaderValue::from_static(value));
    }
    // As the fast path says it; a response ended by the close must not.
    if keep_alive {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    }
    Ok(res)
}

/// Joins a page of frames into one chunk: one write for the whole page. Not a [`Burst`]: a page's
/// size is known before copying, so replay allocates once, exactly.
fn join(page: &[Arc<StoredEvent>]) -> Bytes {
    if let [one] = page {
        return one.frame.clone();
    }
    let mut buf = BytesMut::with_capacity(page.iter().map(|e| e.frame.len()).sum());
    for e in page {
        buf.extend_from_slice(&e.frame);
    }
    buf.freeze()
}

/// At most this many bytes of live events are joined into one write.
const BURST_BYTES: usize = 64 * 1024;

/// Where a subscription goes after a burst of live events.
enum Next {
    /// Wait for the next append.
    Live,
    /// Read from the store what the ring no longer holds (a gap between appends).
    CatchUp,
    /// Further behind than the ring reaches: read what was missed from the store.
    Lagged,
    /// The ring was dropped (its stream ended, or its last subscriber left meanwhile).
    Resubscribe,
    /// The terminal event went out.
    End,
}

/// An append whose events after `from` are still to be sent: a burst stops at [`BURST_BYTES`],
/// possibly in the middle of an append.
type Rest = (Appended, usize);

/// Fills `burst` with the events after `last`: from `received` (an append, from its event
/// `from`), then whatever else the ring already holds, until the burst is full, the ring is
/// empty or the stream ends. Leaves an unsent remainder in `rest`.
fn fill(
    burst: &mut Burst,
    live: &mut Live,
    last: &mut u64,
    rest: &mut Option<Rest>,
    mut received: Result<Appended, RecvError>,
    mut from: usize,
) -> Next {
    loop {
        let append = match received {
            Ok(append) => append,
            Err(RecvError::Lagged(_)) => return Next::Lagged,
            Err(RecvError::Closed) => return Next::Resubscribe,
        };
        for (i, event) in append.iter().enumerate().skip(from) {
            if event.seq <= *last {
                continue;
            }
            // A gap can only mean the ring moved on while we read: fill it from the store.
            if event.seq > *last + 1 {
                return Next::CatchUp;
            }
            *last = event.seq;
            burst.push(&event.frame);
            if event.terminal {
                return Next::End;
            }
            if burst.len() >= BURST_BYTES {
                if i + 1 < append.len() {
                    *rest = Some((append.clone(), i + 1));
                }
                return Next::Live;
            }
        }
        from = 0;
        received = match live.try_recv() {
            Ok(append) => Ok(append),
            Err(TryRecvError::Empty) => return Next::Live,
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
        };
    }
}

/// Live frames joined for one write. One frame is sent as it is (shared, not copied); only a
/// burst of several is copied into one buffer.
#[derive(Default)]
struct Burst {
    first: Option<Bytes>,
    joined: Option<BytesMut>,
    events: u64,
}

impl Burst {
    fn push(&mut self, frame: &Bytes) {
        self.events += 1;
        match (&mut self.joined, self.first.take()) {
            (Some(buf), _) => buf.extend_from_slice(frame),
            (None, None) => self.first = Some(frame.clone()),
            (None, Some(first)) => {
                let mut buf = BytesMut::with_capacity(4 * (first.len() + frame.len()));
                buf.extend_from_slice(&first);
                buf.extend_from_slice(frame);
                self.joined = Some(buf);
            }
        }
    }

    fn len(&self) -> usize {
        match (&self.joined, &self.first) {
            (Some(buf), _) => buf.len(),
            (None, Some(first)) => first.len(),
            (None, None) => 0,
        }
    }

    /// The bytes to write and how many events they hold, if any.
    fn take(self) -> Option<(Bytes, u64)> {
        let bytes = match (self.joined, self.first) {
            (Some(buf), _) => buf.freeze(),
            (None, Some(first)) => first,
            (None, None) => return None,
        };
        Some((bytes, self.events))
    }
}

impl Subscription {
    /// The bytes to send: the `retry:` hint, the history after the client's id, live events,
    /// keep-alive comments; it ends after the terminal event or at shutdown.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
        let Subscription {
            state,
            id,
            after: mut last,
        } = self;
        async_stream::stream! {
            // Subscribe before reading the history: an event appended in between is then in one of
            // the two (or both, and skipped by position), never in neither.
            let mut live = state.store.subscribe(&id);
            let mut head = Vec::new();
            ssekit_protocol::encode_retry(&mut head, state.config.retry.as_millis() as u64);
            yield Ok(Bytes::from(head));
            let keepalive = state.config.keepalive;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
            let metrics = &state.metrics;
            'catch_up: loop {
                // History: everything stored after `last`.
                loop {
                    let (chunk, ended, full) = {
                        let page = match state.store.read(&id, last, PAGE, PAGE_BYTES).await {
                            Ok(page) => page,
                            Err(e) => {
                                tracing::warn!(stream = %id, error = %e, "reading a stream failed; closing it");
                                break 'catch_up;
                            }
                        };
                        let Some(end) = page.last() else { break };
                        last = end.seq;
                        metrics.events_delivered.inc_by(page.len() as u64);
                        // The page's events are dropped here, before the write: only the joined
                        // bytes wait on a slow client.
                        let chunk = join(&page);
                        // A page cut by neither bound ended at the stream's last event.
                        let full = page.len() == PAGE || chunk.len() >= PAGE_BYTES;
                        (chunk, end.terminal, full)
                    };
                    yield Ok(chunk);
                    if ended {
                        break 'catch_up;
                    }
                    if !full {
                        break;
                    }
                }
                // Live: events as they are appended. What the ring already holds beyond the append
                // that woke us goes out in the same write: under load a subscriber then costs one
                // syscall per burst, not one per event.
                let mut rest: Option<Rest> = None;
                loop {
                    let (received, from) = match rest.take() {
                        Some((append, from)) => (Ok(append), from),
                        None => tokio::select! {
                            received = live.recv() => (received, 0),
                            _ = tick.tick() => {
                                yield Ok(Bytes::from_static(KEEPALIVE));
                                continue;
                            }
                            _ = state.shutdown.cancelled() => break 'catch_up,
                        },
                    };
                    let mut burst = Burst::default();
                    let next = fill(&mut burst, &mut live, &mut last, &mut rest, received, from);
                    if let Some((bytes, events)) = burst.take() {
                        metrics.events_delivered.inc_by(events);
                        yield Ok(bytes);
                    }
                    match next {
                        Next::Live => {}
                        Next::CatchUp => continue 'catch_up,
                        Next::Lagged => {
                            // A whole ring behind: the store has the rest, and the ring's later
                            // appends are skipped up to where its reading ends.
                            metrics.lagged_catch_ups.inc();
                            continue 'catch_up;
                        }
                        Next::Resubscribe => {
                            live = state.store.subscribe(&id);
                            continue 'catch_up;
                        }
                        Next::End => break 'catch_up,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{now_ms, StreamKind, StreamMeta};
    use crate::{open_store, Config, StoreConfig};
    use futures_util::{FutureExt, StreamExt};
    use ssekit_events::{Event, GenerationComplete, ReasoningStep};

    fn step(n: u32) -> Event {
        Event::ReasoningStep(ReasoningStep {
            step: n,
            content: format!("step {n}"),
        })
    }

    /// The ids of the events in some SSE bytes.
    fn ids(bytes: &[u8]) -> Vec<String> {
        let mut parser = ssekit_protocol::Parser::new();
        parser
            .push(bytes)
            .into_iter()
            .filter_map(|item| match item {
                ssekit_protocol::Item::Event(e) => Some(e.id),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_subscriber_a_whole_ring_behind_reads_the_rest_from_the_store_and_stays_connected() {
        let config = Config {
            store: StoreConfig::Memory,
            subscriber_buffer: 1,
            ..Config::default()
        };
        let state = AppState::new(config.clone(), open_store(&config).unwrap());
        let meta = StreamMeta::new(
            "s".into(),
            StreamKind::Generation,
            serde_json::json!({}),
            now_ms(),
        );
        state.store.create(meta).await.unwrap();
        state.store.append("s", vec![step(1)]).await.unwrap();

        let Opened::Stream(sub) = open(&state, "s", None).await.unwrap() else {
            panic!("a running stream opens");
        };
        let mut stream = Box::pin(sub.into_stream());
        let mut got = Vec::new();
        // The retry hint, then the history: event 1.
        got.extend(stream.next().await.unwrap().unwrap());
        got.extend(stream.next().await.unwrap().unwrap());
        // Now live, waiting on the ring (which keeps one append)…
        assert!(stream.next().now_or_never().is_none());
        // …while five appends go by unread: four more than the ring keeps.
        for n in 2..=5 {
            state.store.append("s", vec![step(n)]).await.unwrap();
        }
        let done = Event::GenerationComplete(GenerationComplete {
            success: true,
            total_duration: 1,
        });
        state.store.append("s", vec![done]).await.unwrap();
        while let Some(chunk) = stream.next().await {
            got.extend(chunk.unwrap());
        }
        let expected: Vec<String> = (1..=6).map(|n| format!("s:{n}")).collect();
        assert_eq!(ids(&got), expected, "every event once, in order");
        assert_eq!(state.metrics.lagged_catch_ups.get(), 1);
    }

    #[test]
    fn a_burst_of_one_shares_the_frame_and_of_several_joins_them_in_order() {
        assert!(Burst::default().take().is_none());

        let a = Bytes::from_static(b"id: s_1\ndata: a\n\n");
        let mut one = Burst::default();
        one.push(&a);
        let (bytes, events) = one.take().unwrap();
        assert_eq!(events, 1);
        assert_eq!(
            bytes.as_ptr(),
            a.as_ptr(),
            "one frame is sent without a copy"
        );

        let b = Bytes::from_static(b"id: s_2\ndata: b\n\n");
        let c = Bytes::from_static(b"id: s_3\ndata: c\n\n");
        let mut three = Burst::default();
        for f in [&a, &b, &c] {
            three.push(f);
        }
        assert_eq!(three.len(), a.len() + b.len() + c.len());
        let (bytes, events) = three.take().unwrap();
        assert_eq!(events, 3);
        assert_eq!(&bytes[..], [&a[..], &b[..], &c[..]].concat());
    }
}
