//! The Durable Object behind each stream: it owns the stream's log, runs its pipeline, and fans
//! each event out to the stream's open connections as it is appended.
//!
//! The object is single-threaded and the only writer of its stream: a subscriber's live channel
//! is registered before its history is read, and each live frame carries its position, so a
//! subscriber gets every event once, in order, across the switch from history to live.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use ssekit_api::auth::{self, Action};
use ssekit_api::response::{Cancelled, GenerationSnapshot, Published};
use ssekit_api::{ApiError, ErrorCode, StreamKind, StreamMeta};
use ssekit_events::{ErrorEvent, Event, EventId, STAGE_CANCELLED, STAGE_INTERRUPTED};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::call::Call;
use crate::config::Config;
use crate::log::{Log, Row, PAGE_BYTES};
use crate::respond::{self, internal, Answer};
use crate::routes;

/// While a pipeline runs, an alarm this far ahead ends its stream if the object was evicted or the
/// runtime restarted (see `recover`).
const WATCHDOG_MS: u64 = 5_000;

/// A frame for live subscribers, encoded once and shared by all of them.
struct Frame {
    /// The event's position; 0 for a keep-alive comment.
    seq: u64,
    terminal: bool,
    bytes: Vec<u8>,
}

/// Why the object closed a connection.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    /// Its queue held more than `SUBSCRIBER_BUFFER` frames or `SUBSCRIBER_BUFFER_BYTES`: the
    /// response ends, and the client resumes from its last id.
    Lagged,
    /// Its last chunk was not taken for `STALL_TIMEOUT_MS`: the response is aborted.
    Stalled,
}

/// One connection, shared by the object (which queues its live frames and watches it for a
/// stall) and its [`Reader`] (which hands its bytes to the runtime).
#[derive(Default)]
struct Conn {
    /// Live frames not yet sent, and their size: bounded by count and by bytes.
    queue: VecDeque<Rc<Frame>>,
    queued_bytes: usize,
    /// Live frames are queued for it (not for the replay of a finished stream, nor once the
    /// stream has finished).
    live: bool,
    waker: Option<Waker>,
    cut: Option<Cut>,
    /// When the reader handed its last chunk to the runtime, while the runtime has not asked
    /// for the next: the response stream is pulled only once a chunk is written out, so this
    /// is how long the client has not been reading.
    handed_at: Option<u64>,
    /// The reader was dropped: the response ended or the client left.
    gone: bool,
}

impl Conn {
    /// Closes the connection and frees what it had waiting.
    fn cut(&mut self, why: Cut) {
        self.cut = Some(why);
        self.queue = VecDeque::new();
        self.queued_bytes = 0;
        self.wake();
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

type ConnRef = Rc<RefCell<Conn>>;

/// One stream.
#[durable_object]
pub struct Stream {
    inner: Rc<Inner>,
}

/// The object's state, shared with its pipeline and keep-alive tasks.
pub struct Inner {
    state: State,
    config: Config,
    log: Log,
    live: RefCell<Live>,
}

#[derive(Default)]
struct Live {
    /// The metadata, once read.
    meta: Option<StreamMeta>,
    /// The open connections.
    conns: Vec<ConnRef>,
    pipeline_running: bool,
    /// The task that sends keep-alives and closes stalled connections runs.
    ticker_running: bool,
}

impl DurableObject for Stream {
    fn new(state: State, env: Env) -> Self {
        let config = Config::from_env(&env);
        let log = Log::new(state.storage().sql());
        Self {
            inner: Rc::new(Inner {
                state,
                config,
                log,
                live: RefCell::new(Live::default()),
            }),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        Ok(match self.inner.clone().handle(req).await {
            Ok(res) => res,
            Err(e) => respond::error(&e),
        })
    }

    async fn alarm(&self) -> Result<Response> {
        self.inner.clone().alarm().await;
        Response::empty()
    }
}

pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

impl Inner {
    /// Requests from the Worker: a [`Call`].
    async fn handle(self: Rc<Self>, req: Request) -> Answer {
        let known = self.meta()?.is_some();
        if known {
            self.recover();
        }
        let url = req.url().map_err(internal)?;
        let (id, call) = Call::parse(&req.method(), url.path(), url.query().unwrap_or(""))?;
        let creates = call == Call::Init;
        let answer = self.clone().answer(req, id, call).await;
        if !known && !creates && matches!(self.meta(), Ok(None)) {
            // Asked about an id that was never created: the runtime opened a database for this
            // object all the same. Leave nothing behind (no file, no billed storage).
            if let Err(e) = self.state.storage().delete_all().await {
                worker::console_error!("ssekit worker: delete_all: {e}");
            }
        }
        answer
    }

    async fn answer(self: Rc<Self>, mut req: Request, id: String, call: Call) -> Answer {
        match call {
            Call::Init => {
                let body = req.bytes().await.map_err(internal)?;
                let meta: StreamMeta = ssekit_api::parse_json(&body)?;
                self.init(meta)
            }
            Call::Events(after) => self.subscribe(&id, after),
            Call::Snapshot => {
                let meta = self.existing(&id)?;
                let snap = self.log.snapshot().map_err(internal)?;
                respond::json(200, &GenerationSnapshot::new(&meta, &snap))
            }
            Call::Document => {
                let meta = self.existing(&id)?;
                let snap = self.log.snapshot().map_err(internal)?;
                let html = ssekit_api::document_html(&meta, &snap)?;
                respond::typed("text/html; charset=utf-8", html.into_bytes(), "no-cache")
            }
            Call::Image(name) => {
                let meta = self.existing(&id)?;
                let svg = ssekit_api::image_svg(&meta, &name)?;
                respond::typed("image/svg+xml", svg.into_bytes(), "public, max-age=3600")
            }
            Call::Cancel => self.cancel(&id),
            Call::Publish => self.publish(&id, &mut req).await,
        }
    }

    /// The metadata, read once and then kept in memory (this object is its only writer).
    fn meta(&self) -> std::result::Result<Option<StreamMeta>, ApiError> {
        if let Some(meta) = &self.live.borrow().meta {
            return Ok(Some(meta.clone()));
        }
        let meta = self.log.meta().map_err(internal)?;
        self.live.borrow_mut().meta = meta.clone();
        Ok(meta)
    }

    /// The metadata of stream `id`: 404 if it was never created, 410 once expired.
    fn existing(&self, id: &str) -> std::result::Result<StreamMeta, ApiError> {
        match self.meta()? {
            Some(meta) if meta.id == id && meta.expired => Err(ApiError::expired()),
            Some(meta) if meta.id == id => Ok(meta),
            _ => Err(ApiError::unknown_stream()),
        }
    }

    fn init(self: &Rc<Self>, meta: StreamMeta) -> Answer {
        if self.meta()?.is_some() {
            return Err(ApiError::exists());
        }
        self.log.create(&meta).map_err(internal)?;
        self.live.borrow_mut().meta = Some(meta.clone());
        if meta.kind == StreamKind::Generation {
            self.start_pipeline(meta);
        }
        respond::json(201, &json!({}))
    }

    /// Starts the pipeline of a new generation, with a watchdog alarm.
    fn start_pipeline(self: &Rc<Self>, meta: StreamMeta) {
        self.live.borrow_mut().pipeline_running = true;
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            crate::pipeline::run(this.clone(), meta).await;
            this.live.borrow_mut().pipeline_running = false;
        });
        self.set_alarm(now_ms() + WATCHDOG_MS);
    }

    /// A generation left running by an object that is gone (evicted, or the runtime restarted)
    /// has no producer any more: it ends with the recoverable `interrupted` error, as on the
    /// native server, so its subscribers never hang.
    fn recover(&self) {
        let running_elsewhere = match self.meta() {
            Ok(Some(meta)) => {
                meta.kind == StreamKind::Generation
                    && !meta.finished()
                    && !meta.expired
                    && !self.live.borrow().pipeline_running
            }
            _ => false,
        };
        if running_elsewhere {
            let event = Event::Error(ErrorEvent {
                message: "the server stopped while this generation was running; start it again"
                    .into(),
                stage: STAGE_INTERRUPTED.into(),
                recoverable: true,
            });
            if let Err(e) = self.append(&[event]) {
                worker::console_error!("ssekit worker: recover: {e}");
            }
        }
    }

    fn set_alarm(&self, at_ms: u64) {
        let storage = self.state.storage();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = storage.set_alarm(at_ms as i64).await {
                worker::console_error!("ssekit worker: set_alarm: {e}");
            }
        });
    }

    /// The watchdog of a running pipeline, and retention of a finished stream.
    async fn alarm(self: Rc<Self>) {
        let Ok(Some(mut meta)) = self.meta() else {
            return;
        };
        let now = now_ms();
        if !meta.finished() {
            self.recover();
            if self.live.borrow().pipeline_running {
                self.set_alarm(now + WATCHDOG_MS);
            }
        } else if !meta.expired {
            let due = meta.finished_at.unwrap_or(now) + self.config.retention_ms;
            if now >= due {
                meta.expired = true;
                let cleared = self
                    .log
                    .clear_events()
                    .and_then(|_| self.log.put_meta(&meta));
                match cleared {
                    Ok(()) => self.live.borrow_mut().meta = Some(meta),
                    Err(e) => worker::console_error!("ssekit worker: retention: {e}"),
                }
            } else {
                self.set_alarm(due);
            }
        }
    }

    /// Appends events, then hands them to every live subscriber.
    pub fn append(&self, events: &[Event]) -> std::result::Result<Vec<Row>, ApiError> {
        let Some(mut meta) = self.meta()? else {
            return Err(ApiError::unknown_stream());
        };
        if meta.expired {
            return Err(ApiError::expired());
        }
        if meta.finished() {
            return Err(ApiError::finished());
        }
        let rows = self
            .log
            .append(&mut meta, events, now_ms())
            .map_err(internal)?;
        let finished = meta.finished();
        let finished_at = meta.finished_at;
        self.live.borrow_mut().meta = Some(meta.clone());
        let frames: Vec<Rc<Frame>> = rows
            .iter()
            .zip(events)
            .map(|(row, event)| {
                let mut bytes = Vec::new();
                row.frame(&meta.id, &mut bytes);
                Rc::new(Frame {
                    seq: row.seq,
                    terminal: event.is_terminal(),
                    bytes,
                })
            })
            .collect();
        self.broadcast(&frames);
        if finished {
            // Every connection ends after the terminal event, which is queued for it now.
            for conn in &self.live.borrow().conns {
                let mut conn = conn.borrow_mut();
                conn.live = false;
                conn.wake();
            }
            self.set_alarm(finished_at.unwrap_or_else(now_ms) + self.config.retention_ms);
        }
        Ok(rows)
    }

    /// Queues frames for every live connection; one whose queue is full (in frames or bytes) is
    /// disconnected (it resumes from its last id and loses nothing), one that left is forgotten.
    fn broadcast(&self, frames: &[Rc<Frame>]) {
        let (max_frames, max_bytes) = (
            self.config.subscriber_buffer,
            self.config.subscriber_buffer_bytes,
        );
        let mut live = self.live.borrow_mut();
        live.conns
            .retain(|c| !c.borrow().gone && c.borrow().cut.is_none());
        for conn in &live.conns {
            let mut conn = conn.borrow_mut();
            if !conn.live {
                continue;
            }
            for frame in frames {
                let full = conn.queue.len() >= max_frames
                    || conn.queued_bytes + frame.bytes.len() > max_bytes;
                // An empty queue takes one frame of any size: a large event still gets through.
                if full && !conn.queue.is_empty() {
                    conn.cut(Cut::Lagged);
                    break;
                }
                conn.queued_bytes += frame.bytes.len();
                conn.queue.push_back(frame.clone());
            }
            conn.wake();
        }
    }

    fn subscribe(self: &Rc<Self>, id: &str, after: Option<EventId>) -> Answer {
        let meta = self.existing(id)?;
        let after = ssekit_api::resume_after(id, after.as_ref(), meta.last_seq)?;
        if meta.finished() && after == meta.last_seq {
            return Ok(respond::no_content());
        }
        let mut head = Vec::new();
        ssekit_protocol::encode_retry(&mut head, self.config.retry_ms);
        // Registered before the history is read: nothing appended meanwhile is missed. The
        // replay of a finished stream is registered too, to be watched for a stall.
        let conn = Rc::new(RefCell::new(Conn {
            live: !meta.finished(),
            ..Conn::default()
        }));
        self.live.borrow_mut().conns.push(conn.clone());
        self.ensure_ticker();
        let reader = Reader {
            stream: self.clone(),
            id: id.to_owned(),
            after,
            history: true,
            replay: meta.finished(),
            conn,
            done: false,
        };
        let first = futures::stream::once(async move { Ok(head) });
        respond::event_stream(first.chain(futures::stream::unfold(reader, Reader::next)))
    }

    /// Starts the task that, while connections are open, sends keep-alive comments to idle ones
    /// and closes those that stalled.
    fn ensure_ticker(self: &Rc<Self>) {
        {
            let mut live = self.live.borrow_mut();
            if live.ticker_running {
                return;
            }
            live.ticker_running = true;
        }
        let this = self.clone();
        let keepalive = self.config.keepalive_ms;
        let stall = self.config.stall_timeout_ms;
        // Fine enough that a stall is noticed within a quarter of its timeout past it.
        let tick = Duration::from_millis(keepalive.min(stall / 4).max(50));
        wasm_bindgen_futures::spawn_local(async move {
            let comment = Rc::new(Frame {
                seq: 0,
                terminal: false,
                bytes: ssekit_api::KEEPALIVE.to_vec(),
            });
            let mut next_keepalive = now_ms() + keepalive;
            loop {
                worker::Delay::from(tick).await;
                let now = now_ms();
                let mut live = this.live.borrow_mut();
                live.conns
                    .retain(|c| !c.borrow().gone && c.borrow().cut.is_none());
                for conn in &live.conns {
                    let mut conn = conn.borrow_mut();
                    if conn
                        .handed_at
                        .is_some_and(|at| now.saturating_sub(at) >= stall)
                    {
                        conn.cut(Cut::Stalled);
                    } else if now >= next_keepalive && conn.live && conn.queue.is_empty() {
                        conn.queued_bytes += comment.bytes.len();
                        conn.queue.push_back(comment.clone());
                        conn.wake();
                    }
                }
                if now >= next_keepalive {
                    next_keepalive = now + keepalive;
                }
                if live.conns.is_empty() {
                    live.ticker_running = false;
                    break;
                }
            }
        });
    }

    fn cancel(&self, id: &str) -> Answer {
        let meta = self.existing(id)?;
        meta.check_cancellable()?;
        let cancelled = Event::fatal(STAGE_CANCELLED, "the generation was cancelled");
        match self.append(&[cancelled]) {
            Ok(_) => respond::json(202, &Cancelled::new(id)),
            Err(e) if e.code() == ErrorCode::StreamFinished => Err(ApiError::already_finished()),
            Err(e) => Err(e),
        }
    }

    async fn publish(&self, id: &str, req: &mut Request) -> Answer {
        let authorization = req.headers().get("authorization").ok().flatten();
        // Set by the Worker only (see `routes::publish_auth`); absent with auth off.
        let how = req.headers().get(routes::PUBLISH_AUTH).ok().flatten();
        let refused = match how.as_deref() {
            // A JWT granting publish to this stream was verified.
            Some(routes::PUBLISH_BY_JWT) => self
                .existing(id)
                .and_then(|meta| auth::check_publishable(&meta)),
            // Auth is on and the bearer is not a JWT.
            Some(routes::PUBLISH_BY_TOKEN) => self.by_publish_token(id, authorization.as_deref()),
            _ => self.existing(id).and_then(|meta| {
                ssekit_api::check_publish_token(
                    authorization.as_deref(),
                    ssekit_api::publish_token(&meta),
                )
            }),
        };
        if let Err(e) = refused {
            // Read what the client sends before refusing it, or it may see a reset instead.
            respond::discard_body(req, self.config.body_timeout_ms).await;
            return Err(e);
        }
        let body =
            respond::read_body(req, self.config.max_body, self.config.body_timeout_ms).await?;
        let events = ssekit_api::publish_events(&body)?;
        // The runtime joins a repeated header with ", ": the space refuses it, as the native
        // server refuses a repeated one.
        let key = req
            .headers()
            .get(ssekit_api::IDEMPOTENCY_KEY)
            .ok()
            .flatten();
        let key_values: Vec<&[u8]> = key.iter().map(|k| k.as_bytes()).collect();
        let (rows, replayed) = match ssekit_api::idempotency_key(&key_values)? {
            None => (self.append(&events)?, false),
            Some(key) => self.append_once(key, &events)?,
        };
        let res = respond::json(201, &Published::new(id, rows.iter().map(|r| r.seq)))?;
        if replayed {
            res.headers()
                .set(ssekit_api::IDEMPOTENCY_REPLAYED, "true")
                .map_err(internal)?;
        }
        Ok(res)
    }

    /// Appends under an idempotency key, as the native stores do: a key already used replays
    /// the events it stored if they are `events` (`true`: nothing appended), else
    /// `422 idempotency_key_reused`; a new key appends and is recorded. One synchronous turn of
    /// this single-threaded object, whose writes the runtime commits together: two retries
    /// cannot both append.
    fn append_once(
        &self,
        key: &str,
        events: &[Event],
    ) -> std::result::Result<(Vec<Row>, bool), ApiError> {
        let Some(meta) = self.meta()? else {
            return Err(ApiError::unknown_stream());
        };
        if meta.expired {
            return Err(ApiError::expired());
        }
        if let Some((first, count)) = self.log.key(key).map_err(internal)? {
            let rows = self.log.range(first, count).map_err(internal)?;
            let same = rows.len() == events.len()
                && rows
                    .iter()
                    .zip(events)
                    .all(|(row, event)| row.name == event.name() && row.data == event.data_json());
            return if same {
                Ok((rows, true))
            } else {
                Err(ApiError::key_reused())
            };
        }
        let rows = self.append(events)?;
        let first = rows.first().map_or(meta.last_seq + 1, |r| r.seq);
        self.log
            .put_key(key, first, rows.len() as u64)
            .map_err(internal)?;
        Ok((rows, false))
    }

    /// With auth on, a bearer that is not a JWT publishes if it is the stream's publish token
    /// (compared as without auth); otherwise it is refused as the token checker refuses it
    /// (`401 token_invalid`), whether the stream exists, has expired or never did: as on the
    /// native server.
    fn by_publish_token(&self, id: &str, authorization: Option<&str>) -> Result<(), ApiError> {
        let matches = match self.existing(id) {
            Ok(meta) => {
                ssekit_api::check_publish_token(authorization, ssekit_api::publish_token(&meta))
                    .is_ok()
            }
            // A failing store says nothing of the stream.
            Err(e) if e.code() == ErrorCode::StoreUnavailable => return Err(e),
            Err(_) => false,
        };
        if matches {
            return Ok(());
        }
        let presented = auth::find_token(authorization, "", None, false);
        let refusal = match &self.config.auth {
            Ok(Some(auth)) => auth
                .authorize(presented.as_ref(), &Action::Publish(id), routes::now_secs())
                .err(),
            _ => None,
        };
        let refusal = refusal.unwrap_or_else(|| {
            ApiError::new(
                ErrorCode::TokenInvalid,
                "that token is neither this stream's publish token nor a JWT",
            )
        });
        worker::console_debug!("ssekit worker: POST /v1/streams/{id}/events: refused: {refusal}");
        Err(refusal)
    }
}

/// One subscriber's bytes: its history page by page, then live frames, until the terminal event.
/// The runtime pulls the next chunk only once it has written the last, so nothing is read
/// ahead of a client: a page at a time, whatever the history's size.
struct Reader {
    stream: Rc<Inner>,
    id: String,
    /// The last position sent.
    after: u64,
    history: bool,
    /// The replay of a finished stream: its history is all there is.
    replay: bool,
    conn: ConnRef,
    done: bool,
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut conn = self.conn.borrow_mut();
        conn.gone = true;
        conn.queue = VecDeque::new();
        conn.queued_bytes = 0;
    }
}

type Chunk = Result<Vec<u8>>;

impl Reader {
    async fn next(mut self) -> Option<(Chunk, Self)> {
        if self.done {
            return None;
        }
        // Asked for more: the last chunk was written out.
        let cut = {
            let mut conn = self.conn.borrow_mut();
            conn.handed_at = None;
            conn.cut
        };
        match cut {
            None => {}
            // Mid-history too: a connection cut is not read further.
            Some(Cut::Lagged) => return None,
            Some(Cut::Stalled) => return self.stalled(),
        }
        if self.history {
            match self.stream.log.page(self.after) {
                Ok(page) if !page.is_empty() => {
                    let mut bytes = Vec::new();
                    for row in &page {
                        row.frame(&self.id, &mut bytes);
                    }
                    self.after = page.last().map_or(self.after, |r| r.seq);
                    drop(page);
                    // The history of a finished stream ends with its terminal event.
                    self.done = self.replay && self.after >= self.stream.log_last_seq();
                    return self.hand(bytes);
                }
                Ok(_) => self.history = false,
                Err(e) => {
                    worker::console_error!("ssekit worker: read: {e}");
                    return None;
                }
            }
        }
        if self.replay {
            return None;
        }
        loop {
            let conn = self.conn.clone();
            let taken = futures::future::poll_fn(|cx| {
                let mut conn = conn.borrow_mut();
                if let Some(cut) = conn.cut {
                    return Poll::Ready(Err(cut));
                }
                if conn.queue.is_empty() {
                    if !conn.live {
                        return Poll::Ready(Ok(None));
                    }
                    conn.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                // What is waiting, as one chunk of about a page.
                let mut frames = Vec::new();
                let mut size = 0;
                while let Some(frame) = conn.queue.pop_front() {
                    conn.queued_bytes -= frame.bytes.len();
                    size += frame.bytes.len();
                    let terminal = frame.terminal;
                    frames.push(frame);
                    if terminal || size >= PAGE_BYTES {
                        break;
                    }
                }
                Poll::Ready(Ok(Some(frames)))
            })
            .await;
            let frames = match taken {
                Ok(Some(frames)) => frames,
                Ok(None) | Err(Cut::Lagged) => return None,
                Err(Cut::Stalled) => return self.stalled(),
            };
            let mut bytes = Vec::new();
            for frame in frames {
                if frame.seq != 0 && frame.seq <= self.after {
                    continue; // already sent with the history
                }
                if frame.seq != 0 {
                    self.after = frame.seq;
                }
                bytes.extend_from_slice(&frame.bytes);
                if frame.terminal {
                    self.done = true;
                    break;
                }
            }
            if !bytes.is_empty() {
                return self.hand(bytes);
            }
        }
    }

    /// Ends the response with an error: the runtime aborts it (the connection closes) rather than
    /// completing it, as the native server closes a stalled connection.
    fn stalled(mut self) -> Option<(Chunk, Self)> {
        self.done = true;
        let e = worker::Error::RustError("stalled: the client stopped reading".into());
        Some((Err(e), self))
    }

    /// Gives a chunk to the runtime, noting when: from now on, the client is expected to read.
    fn hand(self, bytes: Vec<u8>) -> Option<(Chunk, Self)> {
        self.conn.borrow_mut().handed_at = Some(now_ms());
        Some((Ok(bytes), self))
    }
}

impl Inner {
    fn log_last_seq(&self) -> u64 {
        self.live.borrow().meta.as_ref().map_or(0, |m| m.last_seq)
    }
}
