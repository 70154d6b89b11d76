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
    /// The event's name.
    pub name: String,
    /// Its JSON payload.
    pub data: String,
}

impl Row {
    /// The SSE frame of this event of stream `id`.
    pub fn frame(&self, id: &str, buf: &mut Vec<u8>) {
        let eid = format!("{id}:{}", self.seq);
        // Ids are built from validated stream ids and names from the vocabulary: no error.
        let _ = ssekit_protocol::encode_event(buf, Some(&eid), Some(&self.name), &self.data);
    }
}

/// Rows read per query while replaying.
pub const PAGE: u64 = 1024;

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
    /// Opens the log, creating its tables the first time.
    pub fn open(sql: SqlStorage) -> worker::Result<Self> {
        sql.exec(
            "CREATE TABLE IF NOT EXISTS meta (one INTEGER PRIMARY KEY CHECK (one = 1), json TEXT NOT NULL)",
            None,
        )?;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)",
            None,
        )?;
        Ok(Self { sql })
    }

    /// The stream's metadata, if it was created.
    pub fn meta(&self) -> worker::Result<Option<StreamMeta>> {
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

    /// Up to `limit` events after position `after`, in order.
    pub fn read(&self, after: u64, limit: u64) -> worker::Result<Vec<Row>> {
        self.sql
            .exec(
                "SELECT seq, name, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                vec![
                    SqlStorageValue::from(after as i64),
                    SqlStorageValue::from(limit as i64),
                ],
            )?
            .to_array()
    }

    /// Folds every event into the stream's snapshot.
    pub fn snapshot(&self) -> worker::Result<Snapshot> {
        let mut snap = Snapshot::default();
        let mut after = 0;
        loop {
            let page = self.read(after, PAGE)?;
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

    /// Removes the events (retention), keeping the metadata so the id answers 410.
    pub fn clear_events(&self) -> worker::Result<()> {
        self.sql.exec("DELETE FROM events", None)?;
        Ok(())
    }
}
