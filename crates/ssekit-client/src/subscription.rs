//! Following a stream across disconnects.

use std::collections::VecDeque;
use std::time::Duration;

use rand::Rng;
use serde::de::DeserializeOwned;
use ssekit_events::{Event, EventId};
use ssekit_protocol::{Item, Parser};

use crate::{Backoff, ClientError};

/// How a subscription behaves.
#[derive(Clone)]
pub struct Options {
    /// Delays between failed attempts.
    pub backoff: Backoff,
    /// Failed attempts in a row before giving up (reset whenever an event arrives).
    pub max_attempts: u32,
    /// Resume after this id instead of starting from the beginning.
    pub last_event_id: Option<String>,
    /// A token for a server with auth on, sent as `Authorization: Bearer` on every request
    /// (the first and every reconnect).
    pub token: Option<String>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Options")
            .field("backoff", &self.backoff)
            .field("max_attempts", &self.max_attempts)
            .field("last_event_id", &self.last_event_id)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            max_attempts: 3,
            last_event_id: None,
            token: None,
        }
    }
}

/// One event received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// Its id.
    pub id: EventId,
    /// The typed event: one of the vocabulary, or an application event ([`Event::App`]).
    pub event: Event,
}

impl Received {
    /// If this is the application event `name`, its data as the caller's type; `None` for any
    /// other event.
    ///
    /// ```
    /// use ssekit_client::Received;
    /// use ssekit_events::Event;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Progress { done: u64, total: u64 }
    ///
    /// let received = Received {
    ///     id: "str_a:4".parse().unwrap(),
    ///     event: Event::from_parts("import.progress", r#"{"done":40,"total":100}"#).unwrap(),
    /// };
    /// let p: Progress = received.app("import.progress").unwrap().unwrap();
    /// assert_eq!((p.done, p.total), (40, 100));
    /// assert!(received.app::<Progress>("import.done").is_none());
    /// ```
    pub fn app<T: DeserializeOwned>(&self, name: &str) -> Option<Result<T, serde_json::Error>> {
        match &self.event {
            Event::App(e) if e.name == name => Some(e.data_as()),
            _ => None,
        }
    }
}

/// What [`Subscription::next`] yields.
#[derive(Debug)]
pub enum Update {
    /// An event, never one already yielded.
    Event(Received),
    /// The connection was lost; the subscription waits `delay`, then resumes after `after`.
    Reconnecting {
        /// The last id received (`None`: from the beginning).
        after: Option<String>,
        /// Failed attempts in a row so far.
        attempt: u32,
        /// How long it waits first.
        delay: Duration,
    },
}

/// A stream followed across disconnects. See the [crate docs](crate).
pub struct Subscription {
    url: String,
    options: Options,
    http: reqwest::Client,
    last: Option<EventId>,
    response: Option<(reqwest::Response, Parser)>,
    pending: VecDeque<Result<Update, ClientError>>,
    failures: u32,
    wait: Option<Duration>,
    retry_hint: Option<Duration>,
    done: bool,
}

impl Subscription {
    /// Follows the events URL `url`.
    pub fn new(url: impl Into<String>, options: Options) -> Self {
        let last = options
            .last_event_id
            .as_deref()
            .and_then(|id| id.parse().ok());
        Self {
            url: url.into(),
            options,
            http: reqwest::Client::new(),
            last,
            response: None,
            pending: VecDeque::new(),
            failures: 0,
            wait: None,
            retry_hint: None,
            done: false,
        }
    }

    /// The id of the last event received.
    pub fn last_event_id(&self) -> Option<String> {
        self.last.as_ref().map(ToString::to_string)
    }

    /// The next update; `None` once the stream has ended (terminal event, 204) or after an error
    /// that ends it.
    pub async fn next(&mut self) -> Option<Result<Update, ClientError>> {
        loop {
            if let Some(update) = self.pending.pop_front() {
                return Some(update);
            }
            if self.done {
                return None;
            }
            match self.response.as_mut() {
                None => self.connect().await,
                Some((res, parser)) => match res.chunk().await {
                    Ok(Some(bytes)) => {
                        let mut items = Vec::new();
                        parser.feed(&bytes, &mut items);
                        for item in items {
                            self.on_item(item);
                        }
                    }
                    Ok(None) => self.failed("the server closed the stream".into()),
                    Err(e) => self.failed(format!("reading the stream failed: {e}")),
                },
            }
        }
    }

    async fn connect(&mut self) {
        if let Some(delay) = self.wait.take() {
            tokio::time::sleep(delay).await;
        }
        let mut req = self
            .http
            .get(&self.url)
            .header("accept", "text/event-stream");
        if let Some(last) = &self.last {
            req = req.header("last-event-id", last.to_string());
        }
        if let Some(token) = &self.options.token {
            req = req.bearer_auth(token);
        }
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => return self.failed(format!("connecting failed: {e}")),
        };
        let status = res.status().as_u16();
        match status {
            200 => self.response = Some((res, Parser::new())),
            // The client already has the terminal event.
            204 => self.done = true,
            408 | 429 | 500..=599 => self.failed(format!("the server answered {status}")),
            _ => {
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                let field = |k: &str| body["error"][k].as_str().unwrap_or_default().to_owned();
                self.done = true;
                self.pending.push_back(Err(ClientError::Refused {
                    status,
                    code: field("code"),
                    message: field("message"),
                }));
            }
        }
    }

    fn on_item(&mut self, item: Item) {
        let e = match item {
            Item::Retry(ms) => {
                self.retry_hint = Some(Duration::from_millis(ms));
                return;
            }
            Item::Comment(_) => return,
            Item::Event(e) => e,
        };
        if self.done {
            return;
        }
        let id: EventId = match e.id.parse() {
            Ok(id) => id,
            Err(err) => {
                self.pending.push_back(Err(ClientError::InvalidEvent {
                    id: e.id,
                    reason: err.to_string(),
                }));
                return;
            }
        };
        if self
            .last
            .as_ref()
            .is_some_and(|l| l.stream() == id.stream() && id.seq() <= l.seq())
        {
            return; // seen already
        }
        self.last = Some(id.clone());
        self.failures = 0;
        match Event::from_parts(&e.event, &e.data) {
            Ok(event) => {
                if event.is_terminal() {
                    self.done = true;
                    self.response = None;
                }
                self.pending
                    .push_back(Ok(Update::Event(Received { id, event })));
            }
            Err(err) => self.pending.push_back(Err(ClientError::InvalidEvent {
                id: id.to_string(),
                reason: err.to_string(),
            })),
        }
    }

    fn failed(&mut self, why: String) {
        self.response = None;
        if self.done {
            return;
        }
        self.failures += 1;
        if self.failures > self.options.max_attempts {
            self.done = true;
            self.pending.push_back(Err(ClientError::GaveUp {
                attempts: self.failures - 1,
                last: why,
            }));
            return;
        }
        // The server's hint sets the first delay, as EventSource does; later ones back off.
        let delay = match (self.failures, self.retry_hint) {
            (1, Some(hint)) => hint,
            (n, _) => self.options.backoff.delay(n, rand::thread_rng().gen()),
        };
        self.wait = Some(delay);
        self.pending.push_back(Ok(Update::Reconnecting {
            after: self.last_event_id(),
            attempt: self.failures,
            delay,
        }));
    }
}
