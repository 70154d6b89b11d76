//! A stream's log in its Durable Object's SQLite storage: the metadata row and the events, each
//! stored as its name and JSON payload under its sequence number.
//!
//! Storage calls are synchronous; the runtime commits the writes of one turn together and holds
//! back the object's outgoing messages (its streams' bytes included) until they are durable, so
//! a subscriber never receives an event the log could lose.

use serde::Deserialize;
use ssekit_api::{StreamMeta, MAX_BATCH};
use ssekit_events::{Event, Snapshot, StreamStatus};
use worker::{SqlStorage, SqlStorageValue};

/// One event as read back.
#[derive(Debug, Deserialize)]
pub struct Row {
    /// Position in the stream, from 1.
    pub seq: u64,
    /// The event's name: one of the vocabulary, or an application event's (`import.progress`).
    pub name: String,
    /// Its JSON payload.
    pub data: String,
}

impl Row {
    /// The SSE frame of this event of stream `id`.
    pub fn frame(&self, id: &str, buf: &mut Vec<u8>) {
        let eid = format!("{id}:{}", self.seq);
        // Ids are built from validated stream ids, and names are the vocabulary's or follow the
        // application event rule (no space, colon or line break): no error.
        let _ = ssekit_protocol::encode_event(buf, Some(&eid), Some(&self.name), &self.data);
    }
}

/// Most rows read per query.
const PAGE_ROWS: u64 = 1024;

/// A page of rows stops once it holds this many bytes (its last row may take it past): replay
/// memory is a page, whatever the history's size, and wasm memory never shrinks.
pub const PAGE_BYTES: usize = 128 * 1024;

/// The log of one stream.
#[derive(Clone)]
pub struct Log {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct MetaRow {
    json: String,
}

impl Log {
    /// The log of an object; nothing is read or written yet.
    pub fn new(sql: SqlStorage) -> Self {
        Self { sql }
    }

    /// Creates the tables: only when a stream is created, so an object asked about an id that
    /// was never created writes nothing.
    fn create_tables(&self) -> worker::Result<()> {
        let sql = &self.sql;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS meta (one INTEGER PRIMARY KEY CHECK (one = 1), json TEXT NOT NULL)",
            None,
        )?;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)",
            None,
        )?;
        Ok(())
    }

    /// The stream's metadata, if it was created.
    pub fn meta(&self) -> worker::Result<Option<StreamMeta>> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        // Reads the schema only: asking about an unknown id creates no table.
        let tables: Count = self
            .sql
            .exec(
                "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                None,
            )?
            .one()?;
        if tables.n == 0 {
            return Ok(None);
        }
        let rows: Vec<MetaRow> = self
            .sql
            .exec("SELECT json FROM meta WHERE one = 1", None)?
            .to_array()?;
        rows.first()
            .map(|r| {
                serde_json::from_str(&r.json).map_err(|e| worker::Error::RustError(e.to_string()))
            })
            .transpose()
    }

    /// Creates the stream: its tables and metadata.
    pub fn create(&self, meta: &StreamMeta) -> worker::Result<()> {
        self.create_tables()?;
        self.put_meta(meta)
    }

    /// Writes the metadata.
    pub fn put_meta(&self, meta: &StreamMeta) -> worker::Result<()> {
        let json =
            serde_json::to_string(meta).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.sql.exec(
            "INSERT INTO meta (one, json) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET json = excluded.json",
            vec![SqlStorageValue::from(json)],
        )?;
        Ok(())
    }

    /// Appends `events` after `meta.last_seq`, updating `meta` (position, status, end time).
    /// Returns the rows written. The caller has checked the stream is running and the batch.
    pub fn append(
        &self,
        meta: &mut StreamMeta,
        events: &[Event],
        now_ms: u64,
    ) -> worker::Result<Vec<Row>> {
        debug_assert!(events.len() <= MAX_BATCH);
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let seq = meta.last_seq + 1;
            let row = Row {
                seq,
                name: event.name().to_owned(),
                data: event.data_json(),
            };
            self.sql.exec(
                "INSERT INTO events (seq, name, data) VALUES (?, ?, ?)",
                vec![
                    SqlStorageValue::from(seq as i64),
                    SqlStorageValue::from(row.name.as_str()),
                    SqlStorageValue::from(row.data.as_str()),
                ],
            )?;
            meta.last_seq = seq;
            if event.is_terminal() {
                meta.status = StreamStatus::after(event);
                meta.finished_at = Some(now_ms);
            }
            rows.push(row);
        }
        self.put_meta(meta)?;
        Ok(rows)
    }

    /// The events after position `after`, in order: at most [`PAGE_ROWS`], and no more once
    /// they hold [`PAGE_BYTES`]. Rows are taken from the cursor one by one, so the rest of the
    /// query is never read into memory.
    pub fn page(&self, after: u64) -> worker::Result<Vec<Row>> {
        let cursor = self.sql.exec(
            "SELECT seq, name, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            vec![
                SqlStorageValue::from(after as i64),
                SqlStorageValue::from(PAGE_ROWS as i64),
            ],
        )?;
        let mut rows = Vec::new();
        let mut bytes = 0;
        for row in cursor.next::<Row>() {
            let row = row?;
            bytes += row.name.len() + row.data.len();
            rows.push(row);
            if bytes >= PAGE_BYTES {
                break;
            }
        }
        Ok(rows)
    }

    /// Folds every event into the stream's snapshot.
    pub fn snapshot(&self) -> worker::Result<Snapshot> {
        let mut snap = Snapshot::default();
        let mut after = 0;
        loop {
            let page = self.page(after)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                let event = Event::from_parts(&row.name, &row.data)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                snap.apply(&event);
            }
        }
        Ok(snap)
    }

    /// Removes the events and the idempotency keys (retention), keeping the metadata so the id
    /// answers 410.
    pub fn clear_events(&self) -> worker::Result<()> {
        self.sql.exec("DELETE FROM events", None)?;
        self.sql
            .exec("DROP TABLE IF EXISTS idempotency_keys", None)?;
        Ok(())
    }

    /// The events idempotency key `key` stored, if it was used: the first's position and how
    /// many. (The table is made at the first use of a key, so streams created before keys
    /// existed, and streams that never see one, carry none.)
    pub fn key(&self, key: &str) -> worker::Result<Option<(u64, u64)>> {
        #[derive(Deserialize)]
        struct Key {
            first_seq: i64,
            count: i64,
        }
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, count INTEGER NOT NULL)",
            None,
        )?;
        let rows: Vec<Key> = self
            .sql
            .exec(
                "SELECT first_seq, count FROM idempotency_keys WHERE key = ?",
                vec![SqlStorageValue::from(key)],
            )?
            .to_array()?;
        Ok(rows.first().map(|k| (k.first_seq as u64, k.count as u64)))
    }

    /// Records that `key` stored `count` events from position `first` (after [`Log::key`]).
    pub fn put_key(&self, key: &str, first: u64, count: u64) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO idempotency_keys (key, first_seq, count) VALUES (?, ?, ?)",
            vec![
                SqlStorageValue::from(key),
                SqlStorageValue::from(first as i64),
                SqlStorageValue::from(count as i64),
            ],
        )?;
        Ok(())
    }

    /// The `count` events from position `first`, in order (a batch: at most [`MAX_BATCH`]).
    pub fn range(&self, first: u64, count: u64) -> worker::Result<Vec<Row>> {
        self.sql
            .exec(
                "SELECT seq, name, data FROM events WHERE seq >= ? AND seq < ? ORDER BY seq",
                vec![
                    SqlStorageValue::from(first as i64),
                    SqlStorageValue::from((first + count) as i64),
                ],
            )?
            .to_array()
    }
}
