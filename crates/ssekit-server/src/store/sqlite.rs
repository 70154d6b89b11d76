//! The `sqlite` store, the default: one file, durable across restarts and `kill -9`.
//!
//! One writer thread owns the write connection and commits appends in groups: it takes every
//! request waiting in its queue, writes them in one transaction, commits (one fsync for the whole
//! group), and only then hands the events to subscribers and answers the callers. Readers use
//! their own connections (WAL mode lets them read while the writer writes); a checkpoint thread
//! copies the WAL back into the database file, so no commit waits for that.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use ssekit_events::{Event, EventKind, StreamStatus};
use tokio::sync::oneshot;

use super::{
    now_ms, AppendOnce, Batch, Hub, Live, Store, StoreError, StoredEvent, StreamKind, StreamMeta,
    TOMBSTONE_MS,
};

/// Most requests committed in one transaction.
const MAX_GROUP: usize = 4096;
/// Reader threads, each with its own connection.
const READERS: usize = 4;
/// Least time between two checkpoints: under a stream of commits the WAL is copied back in
/// chunks, not after every commit.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);
/// The writer's page cache (KiB): a group of thousands of appends to as many streams dirties
/// pages all over the events table, a leaf per stream plus the interior pages; a cache that
/// cannot hold them spills them to the WAL mid-transaction and reads them back in the next
/// (BENCHMARKS.md, "A 32 MiB writer page cache"). The cache fills only as far as the writes reach.
const WRITER_CACHE_KIB: i64 = 32 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS streams (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    info        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'running',
    finished_at INTEGER,
    expired     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS streams_running ON streams (status) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS events (
    stream   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    data     TEXT NOT NULL,
    terminal INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    stream    TEXT NOT NULL,
    key       TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (stream, key)
) WITHOUT ROWID;
";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Op {
    Create(StreamMeta, Reply<()>),
    Append(String, Batch, Reply<Vec<Arc<StoredEvent>>>),
    /// An append under an idempotency key: stream, key, events.
    AppendOnce(String, String, Batch, Reply<AppendOnce>),
    Expire(u64, Reply<usize>),
}

/// A read, run on one of the reader threads with its connection (or the error opening it).
type ReadJob = Box<dyn FnOnce(Result<&Connection, StoreError>) + Send>;

/// Streams in a SQLite file.
pub struct SqliteStore {
    ops: mpsc::Sender<Op>,
    /// Reads go to a fixed set of threads rather than tokio's blocking pool: a burst of
    /// thousands of subscribers would grow that pool to dozens of threads, each with its own
    /// stack and malloc arena, and the memory stays with the process after the burst.
    reads: mpsc::Sender<ReadJob>,
    hub: Arc<Hub>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    // WAL: readers never block the writer. synchronous=FULL: a committed group is on disk, even
    // through a power cut, before any subscriber sees its events.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    Ok(conn)
}

fn parse_status(s: &str) -> StreamStatus {
    match s {
        "complete" => StreamStatus::Complete,
        "error" => StreamStatus::Error,
        "cancelled" => StreamStatus::Cancelled,
        _ => StreamStatus::Running,
    }
}

fn meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StreamMeta> {
    let info: String = row.get(2)?;
    let kind: String = row.get(1)?;
    let status: String = row.get(5)?;
    Ok(StreamMeta {
        id: row.get(0)?,
        kind: StreamKind::parse(&kind),
        info: serde_json::from_str(&info).unwrap_or(serde_json::Value::Null),
        created_at: row.get::<_, i64>(3)? as u64,
        last_seq: row.get::<_, i64>(4)? as u64,
        status: parse_status(&status),
        finished_at: row.get::<_, Option<i64>>(6)?.map(|t| t as u64),
        expired: row.get::<_, i64>(7)? != 0,
    })
}

const META_COLUMNS: &str = "id, kind, info, created_at, last_seq, status, finished_at, expired";

/// A stream's position. The row's `last_seq` is written only when the stream ends (an update per
/// append would rewrite the row's page in every group commit), so it is the position of an ended
/// stream (also after expiry, when the events are gone); while a stream runs, its events'
/// highest `seq` is the position, one index seek away.
///
/// A separate statement, not a correlated subquery in the row's SELECT: with the subquery, the
/// server's memory grew with each cycle of subscribers coming and going (one such read each;
/// BENCHMARKS.md, "A running stream's position read by its own statement").
fn position(conn: &Connection, id: &str, row_last_seq: u64, ended: bool) -> rusqlite::Result<u64> {
    if ended {
        return Ok(row_last_seq);
    }
    let events_last: Option<i64> = conn
        .prepare_cached("SELECT MAX(seq) FROM events WHERE stream = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok(row_last_seq.max(events_last.unwrap_or(0) as u64))
}

/// `meta` with its position filled in.
fn with_position(conn: &Connection, mut meta: StreamMeta) -> rusqlite::Result<StreamMeta> {
    meta.last_seq = position(conn, &meta.id, meta.last_seq, meta.finished())?;
    Ok(meta)
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`; subscribers may fall `buffer` events behind.
    pub fn open(path: impl Into<PathBuf>, buffer: usize) -> Result<Self, StoreError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let conn = open(&path)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        // Checkpoints run on their own thread (below), so a commit never waits for one.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .and_then(|_| conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB))
            .map_err(backend)?;
        let (checkpoints, wanted) = mpsc::sync_channel(1);
        let checkpoint_path = path.clone();
        std::thread::Builder::new()
            .name("ssekit-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoint_path, &wanted))
            .map_err(backend)?;
        let hub = Arc::new(Hub::new(buffer));
        let (ops, rx) = mpsc::channel();
        let writer_hub = hub.clone();
        std::thread::Builder::new()
            .name("ssekit-sqlite-writer".into())
            .spawn(move || {
                Writer {
                    conn,
                    hub: writer_hub,
                    seqs: HashMap::new(),
                    checkpoints,
                }
                .run(rx)
            })
            .map_err(backend)?;
        let (reads, jobs) = mpsc::channel::<ReadJob>();
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..READERS {
            let (jobs, path) = (jobs.clone(), path.clone());
            std::thread::Builder::new()
                .name(format!("ssekit-sqlite-reader-{i}"))
                .spawn(move || read_loop(&path, &jobs))
                .map_err(backend)?;
        }
        Ok(Self { ops, reads, hub })
    }

    async fn request<T>(&self, op: impl FnOnce(Reply<T>) -> Op) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.ops
            .send(op(tx))
            .map_err(|_| backend("the writer has stopped"))?;
        rx.await.map_err(|_| backend("the writer has stopped"))?
    }

    /// Runs `f` on a reader thread's connection, off the async threads.
    async fn read_with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(conn.and_then(f));
        });
        self.reads
            .send(job)
            .map_err(|_| backend("the readers have stopped"))?;
        rx.await.map_err(|_| backend("the readers have stopped"))?
    }
}

/// A reader thread: runs reads in turn until the store is dropped. Its connection is opened at
/// the first read (and again after a failure to open).
fn read_loop(path: &Path, jobs: &Mutex<mpsc::Receiver<ReadJob>>) {
    let mut conn = None;
    loop {
        let job = jobs.lock().expect("reader queue lock").recv();
        let Ok(job) = job else { return };
        if conn.is_none() {
            match open(path) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    job(Err(e));
                    continue;
                }
            }
        }
        job(Ok(conn.as_ref().expect("opened above")));
    }
}

/// The checkpoint thread: copies committed pages from the WAL back into the database file (what
/// SQLite would otherwise do inside a commit, every 1000 pages), at most every
/// [`CHECKPOINT_PAUSE`], while there are commits. PASSIVE: it never blocks the writer or readers.
fn checkpoint_loop(path: &Path, wanted: &mpsc::Receiver<()>) {
    let mut conn = None;
    while wanted.recv().is_ok() {
        if conn.is_none() {
            conn = open(path)
                .inspect_err(|e| tracing::warn!(error = %e, "opening the checkpoint connection"))
                .ok();
        }
        if let Some(c) = &conn {
            if let Err(e) = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "sqlite checkpoint failed");
            }
        }
        std::thread::sleep(CHECKPOINT_PAUSE);
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create(&self, meta: StreamMeta) -> Result<(), StoreError> {
        self.request(|r| Op::Create(meta, r)).await
    }

    async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError> {
        let id = id.to_owned();
        self.read_with(move |conn| {
            let sql = format!("SELECT {META_COLUMNS} FROM streams WHERE id = ?1");
            let meta = conn
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row([&id], meta_from_row).optional())
                .map_err(backend)?
                .ok_or(StoreError::NotFound)?;
            if meta.expired {
                return Err(StoreError::Expired);
            }
            with_position(conn, meta).map_err(backend)
        })
        .await
    }

    async fn append(
        &self,
        id: &str,
        events: Vec<Event>,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        // Serialized here, on the caller's thread, not on the writer that all appends share.
        let batch = Batch::new(&events)?;
        let id = id.to_owned();
        self.request(|r| Op::Append(id, batch, r)).await
    }

    async fn append_once(
        &self,
        id: &str,
        key: &str,
        events: Vec<Event>,
    ) -> Result<AppendOnce, StoreError> {
        let batch = Batch::new(&events)?;
        let (id, key) = (id.to_owned(), key.to_owned());
        self.request(|r| Op::AppendOnce(id, key, batch, r)).await
    }

    async fn read(
        &self,
        id: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let id = id.to_owned();
        self.read_with(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, name, data, terminal FROM events WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(backend)?;
            // Rows are encoded straight from SQLite's buffers: no owned copy of the name and
            // payload per event on the replay path.
            let mut rows = stmt
                .query(params![id, after as i64, limit as i64])
                .map_err(backend)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            let (mut bytes, max_bytes) = (0, max_bytes.max(1));
            while bytes < max_bytes {
                let Some(row) = rows.next().map_err(backend)? else {
                    break;
                };
                let seq = row.get::<_, i64>(0).map_err(backend)? as u64;
                let name = row.get_ref(1).and_then(|v| Ok(v.as_str()?)).map_err(backend)?;
                let data = row.get_ref(2).and_then(|v| Ok(v.as_str()?)).map_err(backend)?;
                let terminal = row.get::<_, i64>(3).map_err(backend)? != 0;
                let kind = EventKind::parse(name)
                    .map_err(|_| StoreError::Corrupt(format!("event name {name:?}")))?;
                let event = StoredEvent::encode(&id, seq, kind, data, terminal);
                bytes += event.frame.len();
                out.push(Arc::new(event));
            }
            drop(rows);
            if out.is_empty() {
                // Nothing after `after`: tell an unknown or expired stream from one with no news.
                let expired: Option<i64> = conn
                    .prepare_cached("SELECT expired FROM streams WHERE id = ?1")
                    .and_then(|mut s| s.query_row([&id], |r| r.get(0)).optional())
                    .map_err(backend)?;
                match expired {
                    None => return Err(StoreError::NotFound),
                    Some(1) => return Err(StoreError::Expired),
                    Some(_) => {}
                }
            }
            Ok(out)
        })
        .await
    }

    fn subscribe(&self, id: &str) -> Live {
        self.hub.subscribe(id)
    }

    async fn running(&self) -> Result<Vec<StreamMeta>, StoreError> {
        self.read_with(|conn| {
            let sql = format!(
                "SELECT {META_COLUMNS} FROM streams WHERE status = 'running' AND expired = 0"
            );
            let mut stmt = conn.prepare(&sql).map_err(backend)?;
            let rows = stmt.query_map([], meta_from_row).map_err(backend)?;
            rows.map(|meta| with_position(conn, meta?))
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)
        })
        .await
    }

    async fn expire(&self, before: u64) -> Result<usize, StoreError> {
        self.request(|r| Op::Expire(before, r)).await
    }
}

/// The one thread that writes.
struct Writer {
    conn: Connection,
    hub: Arc<Hub>,
    /// Last position and whether ended, of streams appended to recently (read once from disk).
    seqs: HashMap<String, (u64, bool)>,
    /// Tells the checkpoint thread there is something to copy back.
    checkpoints: mpsc::SyncSender<()>,
}

/// What a request of a group answers once the group is committed.
enum Outcome {
    Created(Result<(), StoreError>),
    Appended(Result<Vec<Arc<StoredEvent>>, StoreError>),
    AppendedOnce(Result<AppendOnce, StoreError>),
    Expired(Result<usize, StoreError>),
}

/// A write failed halfway through a request: the transaction holds part of it.
struct Torn(rusqlite::Error);

/// Answers a request that could not be committed.
fn fail(op: Op, e: &rusqlite::Error) {
    let e = || backend(e);
    match op {
        Op::Create(_, r) => drop(r.send(Err(e()))),
        Op::Append(_, _, r) => drop(r.send(Err(e()))),
        Op::AppendOnce(_, _, _, r) => drop(r.send(Err(e()))),
        Op::Expire(_, r) => drop(r.send(Err(e()))),
    }
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Op>) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(op) => group.push(op),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
    }

    /// Writes every request of `group` in one transaction and commits it.
    ///
    /// A request refused by its checks (unknown stream, ended stream, bad event…) writes nothing
    /// and is answered with its error; the others commit. A write that fails halfway through a
    /// request (disk full, I/O) would leave part of it in the transaction: the group is rolled
    /// back and its requests are replayed one transaction each, so that one harms no other.
    /// (A savepoint per request does the same, but costs a statement journal and two more
    /// statements per request on every commit, not only when something fails.)
    fn commit_group(&mut self, group: Vec<Op>) {
        let written = self.write_group(&group);
        let outcomes = match written {
            Ok(outcomes) => outcomes,
            Err(Torn(e)) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.seqs.clear();
                if group.len() > 1 {
                    for op in group {
                        self.commit_group(vec![op]);
                    }
                } else {
                    tracing::error!(error = %e, "sqlite write failed");
                    group.into_iter().for_each(|op| fail(op, &e));
                }
                return;
            }
        };
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            // Nothing of this group is on disk: forget the positions it assigned and fail it all.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.seqs.clear();
            tracing::error!(error = %e, "sqlite commit failed");
            group.into_iter().for_each(|op| fail(op, &e));
            return;
        }
        let _ = self.checkpoints.try_send(());
        // Durable now: only from here on may subscribers see the events.
        for (op, outcome) in group.into_iter().zip(outcomes) {
            match (op, outcome) {
                (Op::Create(_, r), Outcome::Created(res)) => drop(r.send(res)),
                (Op::Append(id, _, r), Outcome::Appended(res)) => {
                    if let Ok(events) = &res {
                        self.hub.publish(&id, events);
                    }
                    drop(r.send(res));
                }
                (Op::AppendOnce(id, _, _, r), Outcome::AppendedOnce(res)) => {
                    // A replay appended nothing: subscribers had its events already.
                    if let Ok(AppendOnce {
                        events,
                        replayed: false,
                    }) = &res
                    {
                        self.hub.publish(&id, events);
                    }
                    drop(r.send(res));
                }
                (Op::Expire(_, r), Outcome::Expired(res)) => drop(r.send(res)),
                _ => unreachable!("outcomes follow their requests"),
            }
        }
    }

    /// Begins a transaction and runs the group's requests in it, without committing.
    fn write_group(&mut self, group: &[Op]) -> Result<Vec<Outcome>, Torn> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(Torn)?;
        group
            .iter()
            .map(|op| {
                Ok(match op {
                    Op::Create(meta, _) => Outcome::Created(self.create(meta)?),
                    Op::Append(id, batch, _) => Outcome::Appended(self.append(id, batch)?),
                    Op::AppendOnce(id, key, batch, _) => {
                        Outcome::AppendedOnce(self.append_once(id, key, batch)?)
                    }
                    Op::Expire(before, _) => Outcome::Expired(self.expire(*before)?),
                })
            })
            .collect()
    }

    fn create(&mut self, meta: &StreamMeta) -> Result<Result<(), StoreError>, Torn> {
        let res = self
            .conn
            .prepare_cached(
                "INSERT INTO streams (id, kind, info, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    meta.id,
                    meta.kind.as_str(),
                    meta.info.to_string(),
                    meta.created_at as i64
                ])
            });
        match res {
            Ok(_) => {
                self.seqs.insert(meta.id.clone(), (0, false));
                Ok(Ok(()))
            }
            // A failed statement undoes its own changes: the transaction is intact.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(Err(StoreError::Exists))
            }
            Err(e) => Err(Torn(e)),
        }
    }

    fn position(&mut self, id: &str) -> Result<(u64, bool), StoreError> {
        if let Some(p) = self.seqs.get(id) {
            return Ok(*p);
        }
        let row = self
            .conn
            .prepare_cached("SELECT last_seq, status, expired FROM streams WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)? != 0,
                    ))
                })
                .optional()
            })
            .map_err(backend)?;
        match row {
            None => Err(StoreError::NotFound),
            Some((_, _, true)) => Err(StoreError::Expired),
            Some((seq, status, false)) => {
                let ended = status != "running";
                let p = (
                    position(&self.conn, id, seq, ended).map_err(backend)?,
                    ended,
                );
                self.seqs.insert(id.to_owned(), p);
                Ok(p)
            }
        }
    }

    fn append(
        &mut self,
        id: &str,
        batch: &Batch,
    ) -> Result<Result<Vec<Arc<StoredEvent>>, StoreError>, Torn> {
        // Checks: they write nothing, so a refusal leaves the transaction as it was.
        let (last_seq, finished) = match self.position(id) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        if finished {
            return Ok(Err(StoreError::Finished));
        }
        self.write_events(id, last_seq, batch).map_err(Torn)?;
        Ok(Ok(batch.encode(id, last_seq)))
    }

    /// An append under `key`, in the group's transaction: the key's lookup sees every key
    /// written before it, committed or earlier in this group, so racing retries store once.
    fn append_once(
        &mut self,
        id: &str,
        key: &str,
        batch: &Batch,
    ) -> Result<Result<AppendOnce, StoreError>, Torn> {
        let (last_seq, finished) = match self.position(id) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let known: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT first_seq, count FROM idempotency_keys WHERE stream = ?1 AND key = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![id, key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(Torn)?;
        if let Some((first, count)) = known {
            return self
                .replay(id, first as u64, count as u64, batch)
                .map_err(Torn);
        }
        if finished {
            return Ok(Err(StoreError::Finished));
        }
        self.write_events(id, last_seq, batch).map_err(Torn)?;
        self.conn
            .prepare_cached(
                "INSERT INTO idempotency_keys (stream, key, first_seq, count) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    key,
                    (last_seq + 1) as i64,
                    batch.events.len() as i64
                ])
            })
            .map_err(Torn)?;
        Ok(Ok(AppendOnce {
            events: batch.encode(id, last_seq),
            replayed: false,
        }))
    }

    /// The events a key stored (`count` from `first`), if they are `batch`'s.
    fn replay(
        &mut self,
        id: &str,
        first: u64,
        count: u64,
        batch: &Batch,
    ) -> rusqlite::Result<Result<AppendOnce, StoreError>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, name, data, terminal FROM events WHERE stream = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map(params![id, first as i64, (first + count) as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)? != 0,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !batch.matches(
            rows.iter()
                .map(|(_, name, data, _)| (name.as_str(), data.as_bytes())),
        ) {
            return Ok(Err(StoreError::KeyReused));
        }
        let mut events = Vec::with_capacity(rows.len());
        for (seq, name, data, terminal) in rows {
            let Ok(kind) = EventKind::parse(&name) else {
                return Ok(Err(StoreError::Corrupt(format!("event name {name:?}"))));
            };
            events.push(Arc::new(StoredEvent::encode(
                id, seq, kind, &data, terminal,
            )));
        }
        Ok(Ok(AppendOnce {
            events,
            replayed: true,
        }))
    }

    fn write_events(&mut self, id: &str, last_seq: u64, batch: &Batch) -> rusqlite::Result<()> {
        {
            let mut insert = self.conn.prepare_cached(
                "INSERT INTO events (stream, seq, name, data, terminal) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (seq, (kind, data, terminal)) in (last_seq + 1..).zip(&batch.events) {
                insert.execute(params![
                    id,
                    seq as i64,
                    kind.as_str(),
                    data,
                    *terminal as i64
                ])?;
            }
        }
        let new_last = last_seq + batch.events.len() as u64;
        match batch.status {
            // The row learns its last position and status when the stream ends (see `position`).
            Some(status) => {
                self.conn
                    .prepare_cached(
                        "UPDATE streams SET last_seq = ?2, status = ?3, finished_at = ?4 WHERE id = ?1",
                    )?
                    .execute(params![id, new_last as i64, status.as_str(), now_ms() as i64])?;
                // Ended streams take no more appends; the row on disk says so if one comes.
                self.seqs.remove(id);
            }
            None => {
                self.seqs.insert(id.to_owned(), (new_last, false));
            }
        }
        Ok(())
    }

    fn expire(&mut self, before: u64) -> Result<Result<usize, StoreError>, Torn> {
        self.expire_rows(before).map(Ok).map_err(Torn)
    }

    fn expire_rows(&mut self, before: u64) -> rusqlite::Result<usize> {
        let ids: Vec<String> = self
            .conn
            .prepare_cached("SELECT id FROM streams WHERE expired = 0 AND status != 'running' AND finished_at < ?1")?
            .query_map([before as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in &ids {
            self.conn
                .execute("DELETE FROM events WHERE stream = ?1", [id])?;
            self.conn
                .execute("DELETE FROM idempotency_keys WHERE stream = ?1", [id])?;
            // An ended stream's cached position would answer `Finished`, not `Expired`.
            self.seqs.remove(id);
            self.conn
                .execute("UPDATE streams SET expired = 1 WHERE id = ?1", [id])?;
        }
        self.conn.execute(
            "DELETE FROM streams WHERE expired = 1 AND finished_at < ?1",
            [before.saturating_sub(TOMBSTONE_MS) as i64],
        )?;
        Ok(ids.len())
    }
}
