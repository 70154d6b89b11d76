//! The Durable Object behind each stream: it owns the stream's log, runs its pipeline, and fans
//! each event out to the stream's open connections as it is appended.
//!
//! The object is single-threaded and the only writer of its stream: a subscriber's live channel
//! is registered before its history is read, and each live frame carries its position, so a
//! subscriber gets every event once, in order, across the switch from history to live.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::channel::mpsc;
use futures::StreamExt;
use serde_json::json;
use ssekit_api::{ApiError, StreamKind, StreamMeta};
use ssekit_events::{ErrorEvent, Event, EventId, STAGE_CANCELLED, STAGE_INTERRUPTED};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::config::Config;
use crate::log::{Log, Row, PAGE};
use crate::respond::{self, internal, Answer};

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

type Sender = mpsc::Sender<Rc<Frame>>;

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
    subscribers: Vec<Sender>,
    pipeline_running: bool,
    keepalive_running: bool,
}

impl DurableObject for Stream {
    fn new(state: State, env: Env) -> Self {
        let config = Config::from_env(&env);
        let log = Log::open(state.storage().sql()).expect("the object's SQLite storage");
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
    /// Requests from the Worker: `/{id}/{action}`.
    async fn handle(self: Rc<Self>, mut req: Request) -> Answer {
        if self.meta()?.is_some() {
            self.recover();
        }
        let path = req.path();
        let mut parts = path.trim_start_matches('/').splitn(3, '/');
        let id = parts.next().unwrap_or("").to_owned();
        let action = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        match (req.method(), action) {
            (Method::Post, "init") => {
                let body = req.bytes().await.map_err(internal)?;
                let meta: StreamMeta = ssekit_api::parse_json(&body)?;
                self.init(meta)
            }
            (Method::Get, "events") => {
                let url = req.url().map_err(internal)?;
                let after = ssekit_api::query_param(url.query().unwrap_or(""), "after")
                    .map(|a| a.parse::<EventId>())
                    .transpose()
                    .map_err(|e| ApiError::bad_last_event_id(e.to_string()))?;
                self.subscribe(&id, after)
            }
            (Method::Get, "snapshot") => {
                let meta = self.existing(&id)?;
                let snap = self.log.snapshot().map_err(internal)?;
                respond::json(200, &ssekit_api::snapshot_body(&meta, &snap))
            }
            (Method::Get, "document") => {
                let meta = self.existing(&id)?;
                let snap = self.log.snapshot().map_err(internal)?;
                let html = ssekit_api::document_html(&meta, &snap)?;
                respond::typed("text/html; charset=utf-8", html.into_bytes(), "no-cache")
            }
            (Method::Get, "image") => {
                let meta = self.existing(&id)?;
                let svg = ssekit_api::image_svg(&meta, rest)?;
                respond::typed("image/svg+xml", svg.into_bytes(), "public, max-age=3600")
            }
            (Method::Post, "cancel") => self.cancel(&id),
            (Method::Post, "publish") => self.publish(&id, &mut req).await,
            _ => Err(ApiError::not_found("no such route")),
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
        self.log.put_meta(&meta).map_err(internal)?;
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
            // Every connection ends after the terminal event.
            self.live.borrow_mut().subscribers.clear();
            self.set_alarm(finished_at.unwrap_or_else(now_ms) + self.config.retention_ms);
        }
        Ok(rows)
    }

    /// Sends frames to every subscriber; one whose buffer is full is disconnected (it resumes
    /// from its last id and loses nothing), one that left is forgotten.
    fn broadcast(&self, frames: &[Rc<Frame>]) {
        let mut live = self.live.borrow_mut();
        live.subscribers
            .retain_mut(|tx| frames.iter().all(|f| tx.try_send(f.clone()).is_ok()));
    }

    fn subscribe(self: &Rc<Self>, id: &str, after: Option<EventId>) -> Answer {
        let meta = self.existing(id)?;
        let after = ssekit_api::resume_after(id, after.as_ref(), meta.last_seq)?;
        if meta.finished() && after == meta.last_seq {
            return Ok(respond::no_content());
        }
        let mut head = Vec::new();
        ssekit_protocol::encode_retry(&mut head, self.config.retry_ms);
        let rx = if meta.finished() {
            None
        } else {
            // Registered before the history is read: nothing appended meanwhile is missed.
            let (tx, rx) = mpsc::channel(self.config.subscriber_buffer);
            self.live.borrow_mut().subscribers.push(tx);
            self.ensure_keepalive();
            Some(rx)
        };
        let reader = Reader {
            stream: self.clone(),
            id: id.to_owned(),
            after,
            history: true,
            rx,
            done: false,
        };
        let first = futures::stream::once(async move { head });
        respond::event_stream(first.chain(futures::stream::unfold(reader, Reader::next)))
    }

    fn ensure_keepalive(self: &Rc<Self>) {
        {
            let mut live = self.live.borrow_mut();
            if live.keepalive_running {
                return;
            }
            live.keepalive_running = true;
        }
        let this = self.clone();
        let every = Duration::from_millis(self.config.keepalive_ms);
        wasm_bindgen_futures::spawn_local(async move {
            let comment = Rc::new(Frame {
                seq: 0,
                terminal: false,
                bytes: ssekit_api::KEEPALIVE.to_vec(),
            });
            loop {
                worker::Delay::from(every).await;
                this.broadcast(std::slice::from_ref(&comment));
                let mut live = this.live.borrow_mut();
                if live.subscribers.is_empty() {
                    live.keepalive_running = false;
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
            Ok(_) => respond::json(202, &ssekit_api::cancelled(id)),
            Err(e) if e.code() == ApiError::finished().code() => Err(ApiError::already_finished()),
            Err(e) => Err(e),
        }
    }

    async fn publish(&self, id: &str, req: &mut Request) -> Answer {
        let meta = self.existing(id)?;
        let authorization = req.headers().get("authorization").ok().flatten();
        ssekit_api::check_publish_token(
            authorization.as_deref(),
            ssekit_api::publish_token(&meta),
        )?;
        let body = respond::read_body(req, self.config.max_body).await?;
        let events = ssekit_api::publish_events(&body)?;
        let rows = self.append(&events)?;
        respond::json(201, &ssekit_api::published(id, rows.iter().map(|r| r.seq)))
    }
}

/// One subscriber's bytes: its history page by page, then live frames, until the terminal event.
struct Reader {
    stream: Rc<Inner>,
    id: String,
    /// The last position sent.
    after: u64,
    history: bool,
    rx: Option<mpsc::Receiver<Rc<Frame>>>,
    done: bool,
}

impl Reader {
    async fn next(mut self) -> Option<(Vec<u8>, Self)> {
        if self.done {
            return None;
        }
        if self.history {
            match self.stream.log.read(self.after, PAGE) {
                Ok(page) if !page.is_empty() => {
                    let mut bytes = Vec::new();
                    for row in &page {
                        row.frame(&self.id, &mut bytes);
                    }
                    self.after = page.last().map_or(self.after, |r| r.seq);
                    // The history of a finished stream ends with its terminal event.
                    let finished = self.rx.is_none();
                    let ended = finished && self.after >= self.stream.log_last_seq();
                    self.done = ended;
                    return Some((bytes, self));
                }
                Ok(_) => self.history = false,
                Err(e) => {
                    worker::console_error!("ssekit worker: read: {e}");
                    return None;
                }
            }
        }
        let rx = self.rx.as_mut()?;
        loop {
            let frame = rx.next().await?;
            if frame.seq != 0 && frame.seq <= self.after {
                continue; // already sent with the history
            }
            if frame.seq != 0 {
                self.after = frame.seq;
            }
            self.done = frame.terminal;
            return Some((frame.bytes.clone(), self));
        }
    }
}

impl Inner {
    fn log_last_seq(&self) -> u64 {
        self.live.borrow().meta.as_ref().map_or(0, |m| m.last_seq)
    }
}
