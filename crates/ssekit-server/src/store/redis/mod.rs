//! The `redis` store: streams in Redis (one server, or a Redis Cluster), shared by every ssekit
//! instance that opens the same Redis.
//!
//! - A stream is a Redis Stream of its events (entry ids `<seq>-0`) beside a hash of its meta
//!   ([`keys`]); all of one stream's keys share a hash tag, so the scripts run unchanged on
//!   Cluster.
//! - Every write is one Lua script (`scripts/*.lua`): all checks, then the writes, so an append
//!   is applied whole or not at all, and positions are assigned inside it (gapless across
//!   instances).
//! - Live subscribers are fed by one follower per stream ([`live`]), woken by pub/sub and reading
//!   the Stream, the record.
//! - Generations are owned by the instance that created them, under a lease ([`lease`]).
//! - Finished streams expire after the retention (`PEXPIRE`, and [`Store::expire`]); a tombstone
//!   answers `Expired` for a week after.
//!
//! docs/decisions.md, "Redis store", says why it is built so.

mod conn;
mod durability;
mod keys;
mod lease;
mod live;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::{Script, Value};
use ssekit_events::{Event, EventKind, StreamStatus};

use self::conn::{Conn, Target};
use self::keys::{Indexes, StreamKeys};
use self::lease::Owned;
use self::live::Fanout;
use super::{
    AppendOnce, Batch, Live, Store, StoreError, StoredEvent, StreamKind, StreamMeta, TOMBSTONE_MS,
};

/// The key prefix of the store's keys.
pub const DEFAULT_PREFIX: &str = "ssekit";

/// How long the key of an unconditional append on Cluster is kept (`StreamKeys::call`): ten
/// times the cluster client's overall response timeout, which bounds when it may send the call
/// again. About 150 bytes of Redis memory per append for this long (measured: 100 000 such
/// keys, 14.8 MB), e.g. 4.5 MB at 1000 unconditional appends a second.
const CALL_KEPT: Duration = Duration::from_secs(10 * conn::RESPONSE_TIMEOUT.as_secs());

/// Expired leases `end_orphans` takes from the index at a time.
const ORPHAN_PAGE: usize = 1000;
/// How long one `end_orphans` goes on taking pages (the next sweep takes the rest).
const ORPHAN_SWEEP_TIME: Duration = Duration::from_secs(2);

/// How the redis store is set up.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Appends each stream's live ring keeps (as `Config::subscriber_buffer`).
    pub buffer: usize,
    /// How long a generation's owner holds it (`Config::lease`).
    pub lease: Duration,
    /// How long finished streams are kept (`Config::retention`).
    pub retention: Duration,
    /// Prefix of every key (`ssekit`): several stores may share one Redis under different ones.
    pub prefix: String,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            buffer: 256,
            lease: Duration::from_secs(10),
            retention: Duration::from_secs(3600),
            prefix: DEFAULT_PREFIX.into(),
        }
    }
}

struct Scripts {
    create: Script,
    append: Script,
    renew: Script,
    expire: Script,
}

/// Streams in Redis, shared by every instance on the same Redis.
pub struct RedisStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    prefix: String,
    target: Target,
    conn: Conn,
    fanout: Arc<Fanout>,
    idx: Indexes,
    owner: String,
    lease: Duration,
    retention: Duration,
    owned: Mutex<HashMap<String, Arc<Owned>>>,
    scripts: Scripts,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("redis: {e}"))
}

/// Whether an error leaves an append's outcome unknown because the connection failed (as
/// opposed to Redis answering with an error).
fn connection_failed(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_cluster_error()
}

impl RedisStore {
    /// Opens the store on one Redis, `redis://HOST:PORT[/DB]`. The connection is made by the
    /// first command (and remade after a drop), so this only fails on a malformed URL. Call it
    /// inside a tokio runtime: it starts the store's tasks (renewal, pub/sub) and logs a
    /// warning for each durability setting of the Redis that can lose acknowledged events.
    pub fn open(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        Self::open_target(Target::Single(url.to_owned()), options)
    }

    /// Opens the store on a Redis Cluster, given some of its nodes (`redis://HOST:PORT`).
    pub fn open_cluster(nodes: &[String], options: RedisOptions) -> Result<Self, StoreError> {
        if nodes.is_empty() {
            return Err(backend("a cluster needs at least one node"));
        }
        Self::open_target(Target::Cluster(nodes.to_vec()), options)
    }

    fn open_target(target: Target, options: RedisOptions) -> Result<Self, StoreError> {
        let conn = Conn::open(&target).map_err(backend)?;
        let fanout = Fanout::open(&target, &options.prefix, conn.clone(), options.buffer)
            .map_err(backend)?;
        let inner = Arc::new(Inner {
            idx: Indexes::new(&options.prefix),
            prefix: options.prefix,
            target: target.clone(),
            conn,
            fanout,
            owner: lease::owner_id(),
            lease: options.lease,
            retention: options.retention,
            owned: Mutex::new(HashMap::new()),
            scripts: Scripts {
                create: Script::new(include_str!("scripts/create.lua")),
                append: Script::new(include_str!("scripts/append.lua")),
                renew: Script::new(include_str!("scripts/renew.lua")),
                expire: Script::new(include_str!("scripts/expire.lua")),
            },
        });
        tokio::spawn(lease::renew_loop(Arc::downgrade(&inner), options.lease));
        tokio::spawn(durability::check(target.nodes()));
        Ok(Self { inner })
    }

    /// Streams this instance follows now (has a pub/sub subscription and a follower for): one
    /// per stream with local subscribers, until the follower notices the last one left.
    pub fn followed(&self) -> usize {
        self.inner.fanout.followers()
    }

    /// Generations in this instance's owned map: the running ones it created, and those whose
    /// lease it lost until they have ended (their appends are refused here meanwhile).
    pub fn owned_generations(&self) -> usize {
        self.inner.owned.lock().expect("owned lock").len()
    }

    /// This instance's owner id (`<hostname>-<pid>-<boot nonce>`).
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }
}

/// What the append script answered.
struct Applied {
    code: String,
    first: u64,
    count: u64,
    finished_at: u64,
}

/// How an append is checked.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Any,
    Owner,
    Sweep,
}

impl Inner {
    fn keys(&self, id: &str) -> StreamKeys {
        StreamKeys::new(&self.prefix, id)
    }

    async fn run_append(
        &self,
        keys: &StreamKeys,
        mode: Mode,
        token: &str,
        batch_no: u64,
        key: Option<&str>,
        batch: &Batch,
    ) -> redis::RedisResult<Applied> {
        let mut inv = self.scripts.append.prepare_invoke();
        for k in keys.all() {
            inv.key(k);
        }
        // Only the cluster client sends a command again by itself (after a reconnect, within
        // its overall response timeout), and an owner append is recognised by its batch number.
        if self.target.is_cluster() && mode != Mode::Owner {
            inv.key(keys.call(rand::random()));
        }
        let mode_name = match mode {
            Mode::Any => "any",
            Mode::Owner => "owner",
            Mode::Sweep => "sweep",
        };
        inv.arg(mode_name)
            .arg(&self.owner)
            .arg(token)
            .arg(batch_no)
            .arg(key.unwrap_or(""))
            .arg(batch.status.map_or("", |s| s.as_str()))
            .arg(self.retention.as_millis() as u64)
            .arg(TOMBSTONE_MS)
            .arg(&keys.live)
            .arg(if self.target.is_cluster() { "1" } else { "0" })
            .arg(CALL_KEPT.as_millis() as u64);
        for (kind, data, _) in &batch.events {
            inv.arg(kind.as_str()).arg(data.as_str());
        }
        let mut conn = self.conn.clone();
        let (code, first, count, finished_at): (String, u64, u64, u64) =
            inv.invoke_async(&mut conn).await?;
        Ok(Applied {
            code,
            first,
            count,
            finished_at,
        })
    }

    /// An owner append: one at a time per generation, retried with the same batch number on
    /// connection failures until the lease would run out.
    async fn owner_append(
        &self,
        keys: &StreamKeys,
        owned: &Owned,
        key: Option<&str>,
        batch: &Batch,
    ) -> Result<Applied, StoreError> {
        let mut next = owned.batch.lock().await;
        if owned.lost() {
            return Err(StoreError::NotOwner);
        }
        let mut pause = Duration::from_millis(50);
        loop {
            match self
                .run_append(keys, Mode::Owner, &owned.token, *next, key, batch)
                .await
            {
                Ok(applied) => {
                    if matches!(applied.code.as_str(), "ok" | "replay") {
                        *next += 1;
                    }
                    return Ok(applied);
                }
                Err(e) if connection_failed(&e) => {
                    if Instant::now() + pause >= owned.valid_until() {
                        tracing::warn!(error = %e, "redis unreachable for as long as the lease; giving the generation up");
                        owned.state.lock().expect("lease lock").lost = true;
                        return Err(StoreError::NotOwner);
                    }
                    tracing::debug!(error = %e, "owner append failed; retrying the same batch");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    /// Appends `events` (once per `key`, when given): the stored events and whether they were
    /// stored by an earlier call.
    async fn append(
        &self,
        id: &str,
        key: Option<&str>,
        events: Vec<Event>,
    ) -> Result<(Vec<Arc<StoredEvent>>, bool), StoreError> {
        let batch = Batch::new(&events)?;
        let keys = self.keys(id);
        let owned = self.owned.lock().expect("owned lock").get(id).cloned();
        let applied = match &owned {
            Some(owned) => self.owner_append(&keys, owned, key, &batch).await?,
            None => self
                .run_append(&keys, Mode::Any, "", 0, key, &batch)
                .await
                .map_err(backend)?,
        };
        match applied.code.as_str() {
            "ok" => {}
            "replay" => {
                let events = self
                    .range(id, applied.first, applied.count as usize)
                    .await?;
                return Ok((events, true));
            }
            other => return Err(self.refusal(id, other)),
        }
        let stored = batch.encode(id, applied.first - 1);
        let last = applied.first - 1 + applied.count;
        if batch.status.is_some() {
            self.ended(id, applied.finished_at).await;
        } else {
            self.fanout.note(id, last);
        }
        Ok((stored, false))
    }

    /// Ends generation `id` with `batch` if its lease has run out (whether this call ended it),
    /// and keeps the lease index up to date.
    async fn sweep(&self, id: &str, batch: &Batch) -> Result<bool, StoreError> {
        let keys = self.keys(id);
        let applied = self
            .run_append(&keys, Mode::Sweep, "", 0, None, batch)
            .await
            .map_err(backend)?;
        let mut conn = self.conn.clone();
        match applied.code.as_str() {
            "ok" => {
                tracing::info!(stream = %id, "ended a generation whose owner's lease ran out");
                self.ended(id, applied.finished_at).await;
                return Ok(true);
            }
            // The lease was renewed after all: the candidate's score catches up.
            "alive" if applied.finished_at > 0 => redis::cmd("ZADD")
                .arg(&self.idx.leases)
                .arg("XX")
                .arg(applied.finished_at)
                .arg(id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(backend)?,
            // Ended by someone else, or gone: not a candidate any more.
            _ => redis::cmd("ZREM")
                .arg(&self.idx.leases)
                .arg(id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(backend)?,
        }
        Ok(false)
    }

    /// Drops `owned` from the owned generations (not a newer entry of the same id).
    fn forget_owned(&self, id: &str, owned: &Arc<Owned>) {
        let mut map = self.owned.lock().expect("owned lock");
        if map.get(id).is_some_and(|o| Arc::ptr_eq(o, owned)) {
            map.remove(id);
        }
    }

    fn refusal(&self, id: &str, code: &str) -> StoreError {
        match code {
            "notfound" => StoreError::NotFound,
            "expired" => StoreError::Expired,
            "finished" => {
                self.owned.lock().expect("owned lock").remove(id);
                StoreError::Finished
            }
            "keyreused" => StoreError::KeyReused,
            "notowner" | "stale" => {
                if let Some(o) = self.owned.lock().expect("owned lock").get(id) {
                    o.state.lock().expect("lease lock").lost = true;
                }
                StoreError::NotOwner
            }
            other => backend(format!(
                "unexpected answer {other:?} from the append script"
            )),
        }
    }

    /// Bookkeeping after a stream ended (best effort: the indexes are candidates only).
    async fn ended(&self, id: &str, finished_at: u64) {
        self.owned.lock().expect("owned lock").remove(id);
        self.fanout.forget(id);
        let mut conn = self.conn.clone();
        let res: redis::RedisResult<()> = async {
            redis::cmd("ZREM")
                .arg(&self.idx.running)
                .arg(id)
                .query_async::<()>(&mut conn)
                .await?;
            redis::cmd("ZREM")
                .arg(&self.idx.leases)
                .arg(id)
                .query_async::<()>(&mut conn)
                .await?;
            redis::cmd("ZADD")
                .arg(&self.idx.finished)
                .arg(finished_at)
                .arg(id)
                .query_async::<()>(&mut conn)
                .await
        }
        .await;
        if let Err(e) = res {
            tracing::debug!(stream = %id, error = %e, "updating the stream indexes");
        }
    }

    /// Events `first ..= first + count - 1`.
    async fn range(
        &self,
        id: &str,
        first: u64,
        count: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let mut conn = self.conn.clone();
        let page: Value = redis::cmd("XRANGE")
            .arg(self.keys(id).events)
            .arg(format!("{first}-0"))
            .arg(format!("{}-0", first + count as u64 - 1))
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        Ok(parse_entries(id, page)?
            .into_iter()
            .map(|e| e.event)
            .collect())
    }

    /// `NotFound` or `Expired` for a stream whose hash is missing.
    async fn missing(&self, keys: &StreamKeys) -> StoreError {
        let mut conn = self.conn.clone();
        match redis::cmd("EXISTS")
            .arg(&keys.tomb)
            .query_async::<u64>(&mut conn)
            .await
        {
            Ok(1) => StoreError::Expired,
            Ok(_) => StoreError::NotFound,
            Err(e) => backend(e),
        }
    }

    async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError> {
        let keys = self.keys(id);
        let mut conn = self.conn.clone();
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(&keys.meta)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        if fields.is_empty() {
            return Err(self.missing(&keys).await);
        }
        let num = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
        let meta = StreamMeta {
            id: id.to_owned(),
            kind: StreamKind::parse(fields.get("kind").map_or("", String::as_str)),
            info: fields
                .get("info")
                .and_then(|i| serde_json::from_str(i).ok())
                .unwrap_or(serde_json::Value::Null),
            created_at: num("created_at").unwrap_or(0),
            last_seq: num("last_seq").unwrap_or(0),
            status: parse_status(fields.get("status").map_or("", String::as_str)),
            finished_at: num("finished_at"),
            expired: false,
        };
        if !meta.finished() {
            self.fanout.note(id, meta.last_seq);
        }
        Ok(meta)
    }
}

fn parse_status(s: &str) -> StreamStatus {
    match s {
        "complete" => StreamStatus::Complete,
        "error" => StreamStatus::Error,
        "cancelled" => StreamStatus::Cancelled,
        _ => StreamStatus::Running,
    }
}

/// One entry of a stream's Redis Stream.
pub(super) struct Entry {
    pub event: Arc<StoredEvent>,
    /// The last event of its append.
    pub batch_end: bool,
}

/// The entries of an `XRANGE` answer.
pub(super) fn parse_entries(id: &str, page: Value) -> Result<Vec<Entry>, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("stream {id}: {what}"));
    let Value::Array(entries) = page else {
        return Err(corrupt("XRANGE answered no array"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(mut parts) = entry else {
            return Err(corrupt("an entry is no array"));
        };
        if parts.len() != 2 {
            return Err(corrupt("an entry is not [id, fields]"));
        }
        let fields = parts.pop().expect("two parts");
        let entry_id = bytes(&parts[0]).ok_or_else(|| corrupt("an entry id"))?;
        let seq = std::str::from_utf8(entry_id)
            .ok()
            .and_then(|s| s.split('-').next()?.parse::<u64>().ok())
            .ok_or_else(|| corrupt("an entry id is not <seq>-0"))?;
        let pairs: Vec<(Value, Value)> = match fields {
            Value::Array(flat) => {
                let mut it = flat.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                pairs
            }
            Value::Map(pairs) => pairs,
            _ => return Err(corrupt("an entry's fields")),
        };
        let (mut name, mut data, mut terminal, mut batch_end) = (None, None, false, false);
        for (k, v) in &pairs {
            match bytes(k) {
                Some(b"k") => name = bytes(v),
                Some(b"d") => data = bytes(v),
                Some(b"t") => terminal = true,
                Some(b"b") => batch_end = true,
                _ => {}
            }
        }
        let name = name
            .and_then(|n| std::str::from_utf8(n).ok())
            .ok_or_else(|| corrupt("an event without a name"))?;
        let data = data
            .and_then(|d| std::str::from_utf8(d).ok())
            .ok_or_else(|| corrupt("an event without a payload"))?;
        let kind = EventKind::parse(name).map_err(|_| corrupt(&format!("event name {name:?}")))?;
        out.push(Entry {
            event: Arc::new(StoredEvent::encode(id, seq, kind, data, terminal)),
            batch_end,
        });
    }
    Ok(out)
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn create(&self, meta: StreamMeta) -> Result<(), StoreError> {
        let inner = &self.inner;
        let keys = inner.keys(&meta.id);
        let owned = meta.kind == StreamKind::Generation;
        let mut conn = inner.conn.clone();
        // Index entries first: a crash after them leaves a candidate the checks drop, a crash
        // before the script nothing at all; the other order could leave a generation no sweep
        // finds.
        redis::cmd("ZADD")
            .arg(&inner.idx.running)
            .arg("NX")
            .arg(meta.created_at)
            .arg(&meta.id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(backend)?;
        if owned {
            let deadline = super::now_ms() + inner.lease.as_millis() as u64;
            redis::cmd("ZADD")
                .arg(&inner.idx.leases)
                .arg("NX")
                .arg(deadline)
                .arg(&meta.id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(backend)?;
        }
        let started = Instant::now();
        let answer: Vec<Value> = inner
            .scripts
            .create
            .key(&keys.meta)
            .key(&keys.tomb)
            .arg(meta.kind.as_str())
            .arg(meta.info.to_string())
            .arg(meta.created_at)
            .arg(if owned { inner.owner.as_str() } else { "" })
            .arg(inner.lease.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        if matches!(answer.first(), Some(Value::BulkString(b)) if b == b"exists")
            || matches!(answer.first(), Some(Value::SimpleString(s)) if s == "exists")
        {
            return Err(StoreError::Exists);
        }
        if owned {
            inner.owned.lock().expect("owned lock").insert(
                meta.id.clone(),
                Arc::new(Owned::new("1".into(), started + inner.lease)),
            );
        }
        inner.fanout.note(&meta.id, 0);
        Ok(())
    }

    async fn meta(&self, id: &str) -> Result<StreamMeta, StoreError> {
        self.inner.meta(id).await
    }

    async fn append(
        &self,
        id: &str,
        events: Vec<Event>,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        Ok(self.inner.append(id, None, events).await?.0)
    }

    async fn read(
        &self,
        id: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let keys = self.inner.keys(id);
        let mut conn = self.inner.conn.clone();
        let (mut out, mut bytes, max_bytes) = (Vec::new(), 0, max_bytes.max(1));
        let mut from = after + 1;
        while out.len() < limit && bytes < max_bytes {
            let count = (limit - out.len()).min(256);
            let page: Value = redis::cmd("XRANGE")
                .arg(&keys.events)
                .arg(format!("{from}-0"))
                .arg("+")
                .arg("COUNT")
                .arg(count)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            let entries = parse_entries(id, page)?;
            let got = entries.len();
            for entry in entries {
                if bytes >= max_bytes {
                    break;
                }
                bytes += entry.event.frame.len();
                from = entry.event.seq + 1;
                out.push(entry.event);
            }
            if got < count {
                break;
            }
        }
        if out.is_empty() {
            // Nothing after `after`: tell an unknown or expired stream from one with no news.
            let exists: u64 = redis::cmd("EXISTS")
                .arg(&keys.meta)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            if exists == 0 {
                return Err(self.inner.missing(&keys).await);
            }
        }
        Ok(out)
    }

    fn subscribe(&self, id: &str) -> Live {
        self.inner.fanout.subscribe(id)
    }

    async fn running(&self) -> Result<Vec<StreamMeta>, StoreError> {
        let mut conn = self.inner.conn.clone();
        let ids: Vec<String> = redis::cmd("ZRANGE")
            .arg(&self.inner.idx.running)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let mut out = Vec::new();
        for id in ids {
            match self.inner.meta(&id).await {
                Ok(meta) if !meta.finished() => out.push(meta),
                Ok(_) | Err(StoreError::NotFound | StoreError::Expired) => {
                    // A stale candidate (its end's bookkeeping was cut short).
                    let _: redis::RedisResult<()> = redis::cmd("ZREM")
                        .arg(&self.inner.idx.running)
                        .arg(&id)
                        .query_async(&mut conn)
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn expire(&self, before: u64) -> Result<usize, StoreError> {
        // Finished streams also expire on their own (PEXPIRE at their end): this removes those
        // finished before `before` now, as the other stores do.
        let inner = &self.inner;
        let mut conn = inner.conn.clone();
        let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(&inner.idx.finished)
            .arg("-inf")
            .arg(format!("({before}"))
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let mut n = 0;
        for id in ids {
            let keys = inner.keys(&id);
            let mut inv = inner.scripts.expire.prepare_invoke();
            for k in keys.all() {
                inv.key(k);
            }
            let removed: u64 = inv
                .arg(before)
                .arg(TOMBSTONE_MS)
                .invoke_async(&mut conn)
                .await
                .map_err(backend)?;
            n += removed as usize;
            redis::cmd("ZREM")
                .arg(&inner.idx.finished)
                .arg(&id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(backend)?;
        }
        Ok(n)
    }

    async fn append_once(
        &self,
        id: &str,
        key: &str,
        events: Vec<Event>,
    ) -> Result<AppendOnce, StoreError> {
        let (events, replayed) = self.inner.append(id, Some(key), events).await?;
        Ok(AppendOnce { events, replayed })
    }

    async fn end_orphans(&self, terminal: &Event) -> Result<Vec<String>, StoreError> {
        let inner = &self.inner;
        let batch = Batch::new(std::slice::from_ref(terminal))?;
        let started = Instant::now();
        let mut ended = Vec::new();
        // Page by page until no candidate is left (each one looked at leaves the page: ended,
        // renewed to a later deadline, or dropped), or until the time is up: the rest waits
        // for the next sweep.
        while started.elapsed() < ORPHAN_SWEEP_TIME {
            let mut conn = inner.conn.clone();
            let (secs, micros): (u64, u64) = redis::cmd("TIME")
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            let now = secs * 1000 + micros / 1000;
            let candidates: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&inner.idx.leases)
                .arg("-inf")
                .arg(now)
                .arg("LIMIT")
                .arg(0)
                .arg(ORPHAN_PAGE)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            let last_page = candidates.len() < ORPHAN_PAGE;
            let mut sweeps = futures_util::stream::iter(candidates)
                .map(|id| async {
                    let swept = inner.sweep(&id, &batch).await;
                    (id, swept)
                })
                .buffer_unordered(16);
            while let Some((id, swept)) = sweeps.next().await {
                if swept? {
                    ended.push(id);
                }
            }
            if last_page {
                break;
            }
        }
        Ok(ended)
    }

    fn sweep_every(&self) -> Option<Duration> {
        Some(lease::sweep_every(self.inner.lease))
    }

    async fn health(&self) -> Result<(), StoreError> {
        let mut conn = self.inner.conn.clone();
        // Short: a balancer polls this, and a Redis slower than this is as good as down to it.
        match tokio::time::timeout(
            Duration::from_secs(1),
            redis::cmd("PING").query_async::<Value>(&mut conn),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(backend(e)),
            Err(_) => Err(backend("PING took over 1 s")),
        }
    }
}
