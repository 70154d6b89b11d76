//! The incremental parser of the WHATWG "event stream interpretation".

/// A dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The last event id in force when the event was dispatched.
    pub id: String,
    /// The event type; `message` when the stream named none.
    pub event: String,
    /// The data lines joined with LF.
    pub data: String,
}

/// What the parser yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An event.
    Event(Event),
    /// A valid `retry:` field.
    Retry(u64),
    /// A comment line's text.
    Comment(String),
}

/// Parses an event stream fed in chunks of any size.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    data: String,
    event: String,
    /// The id field's value in force for the event being read (WHATWG "last event ID buffer").
    id_buffer: String,
    /// The id as of the last dispatch (the event source's "last event ID string").
    last_id: String,
    retry: Option<u64>,
    /// A CR ended the last line: an LF starting the next chunk belongs to it.
    after_cr: bool,
    /// The stream's first bytes have been seen (the BOM is stripped only there).
    started: bool,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last event id: the id in force when the last event was dispatched (a blank line was
    /// read), as a reconnecting client must send it in `Last-Event-ID`. An `id:` line of an
    /// event still being read does not count until its blank line arrives: resuming from it
    /// would skip that event. It persists across events until an `id:` field changes it.
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// The last valid retry value seen.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Feeds a chunk and returns the complete items in it.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Item> {
        let mut out = Vec::new();
        self.feed(chunk, &mut out);
        out
    }

    /// Feeds a chunk (split anywhere, even inside a CRLF or a UTF-8 sequence); pushes every
    /// complete item onto `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<Item>) {
        if chunk.is_empty() {
            // Nothing to read: above all, a pending CR must still swallow the next chunk's LF.
            return;
        }
        if !self.started {
            // Wait for enough bytes to tell whether the stream opens with a BOM.
            if self.line.len() + chunk.len() < 3
                && b"\xEF\xBB\xBF".starts_with(&[&self.line[..], chunk].concat())
            {
                self.line.extend_from_slice(chunk);
                return;
            }
            self.started = true;
            let mut head = std::mem::take(&mut self.line);
            head.extend_from_slice(chunk);
            let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head).to_vec();
            self.feed_bytes(&body, out);
            return;
        }
        if self.after_cr {
            if chunk.first() == Some(&b'\n') {
                chunk = &chunk[1..];
            }
            self.after_cr = false;
        }
        self.feed_bytes(chunk, out);
    }

    fn feed_bytes(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..pos]);
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
            self.line = line;
            self.line.clear();
            if rest[pos] == b'\r' {
                match rest.get(pos + 1) {
                    Some(b'\n') => rest = &rest[pos + 2..],
                    Some(_) => rest = &rest[pos + 1..],
                    None => {
                        self.after_cr = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[pos + 1..];
            }
        }
        self.line.extend_from_slice(rest);
    }

    fn process_line(&mut self, raw: &[u8], out: &mut Vec<Item>) {
        if raw.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(raw);
        let (field, value) = match line.find(':') {
            Some(0) => {
                let text = &line[1..];
                out.push(Item::Comment(
                    text.strip_prefix(' ').unwrap_or(text).to_owned(),
                ));
                return;
            }
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => value.clone_into(&mut self.id_buffer),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                    out.push(Item::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Item>) {
        // Set on every dispatch, even one without data (WHATWG "dispatch the event", step 1).
        self.last_id.clone_from(&self.id_buffer);
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        self.data.pop();
        let event = if self.event.is_empty() {
            "message".to_owned()
        } else {
            std::mem::take(&mut self.event)
        };
        self.event.clear();
        out.push(Item::Event(Event {
            id: self.last_id.clone(),
            event,
            data: std::mem::take(&mut self.data),
        }));
    }
}
