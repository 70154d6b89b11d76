//! The ssekit server: generations and published streams over resumable Server-Sent Events.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use ssekit_server::{Config, StoreConfig};
//!
//! let config = Config { store: StoreConfig::Memory, ..Config::default() };
//! let listener = ssekit_server::listen("127.0.0.1:8080").await?;
//! ssekit_server::serve(config, listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod access;
mod connection;
mod error;
mod extract;
mod metrics;
mod pipeline;
mod routes;
mod sse;
pub mod store;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use access::parse_create_rate;
/// The request-head classifier, for `fuzz/fuzz_targets/head.rs`; not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use connection::fuzz_classify;
pub use error::ApiError;
/// A rate: how many creations at once, and how fast the allowance refills.
pub use governor::Quota;
use metrics::Metrics;
use pipeline::Runner;
use store::{MemoryStore, RedisOptions, RedisStore, SqliteStore, Store};

/// Which store holds the streams.
#[derive(Clone)]
pub enum StoreConfig {
    /// In this process only.
    Memory,
    /// A SQLite file (the default), created with its folder when missing.
    Sqlite(PathBuf),
    /// One Redis, `redis://HOST:PORT[/DB]`, shared by every instance that names it.
    Redis(String),
    /// A Redis Cluster, some of its nodes as `redis://HOST:PORT`.
    RedisCluster(Vec<String>),
    /// A store of your own: an implementation of [`Store`] that keeps its contract (the
    /// [`store`] module shows one, and [`store::conformance`] checks one). `subscriber_buffer`
    /// does not apply to it: it sizes its own live tail.
    Custom(Arc<dyn Store>),
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Memory => f.write_str("Memory"),
            StoreConfig::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreConfig::Redis(url) => f.debug_tuple("Redis").field(&redact(url)).finish(),
            StoreConfig::RedisCluster(nodes) => f
                .debug_tuple("RedisCluster")
                .field(&nodes.iter().map(|n| redact(n)).collect::<Vec<_>>())
                .finish(),
            StoreConfig::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Two custom stores are equal when they are the same store.
impl PartialEq for StoreConfig {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (StoreConfig::Memory, StoreConfig::Memory) => true,
            (StoreConfig::Sqlite(a), StoreConfig::Sqlite(b)) => a == b,
            (StoreConfig::Redis(a), StoreConfig::Redis(b)) => a == b,
            (StoreConfig::RedisCluster(a), StoreConfig::RedisCluster(b)) => a == b,
            (StoreConfig::Custom(a), StoreConfig::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for StoreConfig {}

impl std::str::FromStr for StoreConfig {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            _ if s == "memory" => Ok(StoreConfig::Memory),
            Some(("sqlite", path)) if !path.is_empty() => Ok(StoreConfig::Sqlite(path.into())),
            Some(("redis", _)) => {
                redis_node(s)?;
                Ok(StoreConfig::Redis(s.into()))
            }
            Some(("redis-cluster", rest)) => {
                let nodes = rest
                    .strip_prefix("//")
                    .ok_or_else(|| format!("{s:?}: expected `redis-cluster://HOST:PORT,HOST:PORT,…`"))?
                    .split(',')
                    .map(|node| {
                        let url = format!("redis://{}", node.trim());
                        redis_node(&url).map(|()| url)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(StoreConfig::RedisCluster(nodes))
            }
            _ => Err(format!(
                "unknown store {s:?}: expected `memory`, `sqlite:PATH`, `redis://HOST:PORT[/DB]` or `redis-cluster://HOST:PORT,HOST:PORT,…`"
            )),
        }
    }
}

/// Checks a `redis://[USER:PASSWORD@]HOST:PORT[/DB]` URL.
fn redis_node(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| format!("{:?}: expected `redis://HOST:PORT[/DB]`", redact(url)))?;
    let host_port = rest.rsplit('@').next().unwrap_or(rest);
    let (host_port, db) = host_port.split_once('/').unwrap_or((host_port, ""));
    let port = host_port.rsplit_once(':').map(|(_, p)| p);
    let ok = !host_port.is_empty()
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
        && (db.is_empty() || db.parse::<u32>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?}: expected `redis://HOST:PORT[/DB]`",
            redact(url)
        ))
    }
}

/// A Redis URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where streams are kept.
    pub store: StoreConfig,
    /// Interval of keep-alive comments on idle streams.
    pub keepalive: Duration,
    /// The `retry:` hint sent first on every stream.
    pub retry: Duration,
    /// Origins allowed by CORS; `*` allows any.
    pub cors_origins: Vec<String>,
    /// Origins besides its own whose API the demo page may follow with `?api=` (`http(s)://host[:port]`).
    pub demo_api_origins: Vec<String>,
    /// How long finished streams are kept.
    pub retention: Duration,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Most connections open at once, of any kind (capped at what the descriptor limit allows);
    /// more are answered 503 with `Retry-After` and closed.
    pub max_connections: usize,
    /// How long a request head may take, counted from the accept or from the end of the previous
    /// response on the connection (so it also bounds an idle keep-alive connection). Over it: `408`
    /// if part of a head came, else the connection just closes.
    pub header_timeout: Duration,
    /// How long a request body may take to arrive in full. Over it: `408`, and the connection closes.
    pub body_timeout: Duration,
    /// Appends each stream's live ring keeps (about 40 bytes each, for streams with
    /// subscribers); a subscriber further behind reads what it missed from the store.
    pub subscriber_buffer: usize,
    /// How long a write to a client that stopped reading may stay pending before the connection closes.
    pub stall_timeout: Duration,
    /// `exec` pipelines: name → shell command run for each generation.
    pub exec_pipelines: BTreeMap<String, String>,
    /// Called (on a blocking thread) after many connections have closed, to hand the memory
    /// they held back to the system: the binary passes a purge of jemalloc's arenas, which this
    /// library, free of `unsafe`, cannot call itself.
    pub release_memory: Option<fn()>,
    /// Who may do what (DESIGN §9): `None` lets anyone create, publish (with the stream's
    /// publish token), cancel and subscribe.
    pub auth: Option<Arc<ssekit_api::auth::Auth>>,
    /// Creations (`POST /v1/generations`, `POST /v1/streams`, `GET /v1/generate`) allowed per
    /// client address; `None`: no limit.
    pub create_rate: Option<Quota>,
    /// Proxies whose `X-Forwarded-For` names the client (the rightmost entry that is not a
    /// proxy); from any other peer the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a generation's owner holds it in a store several servers share (renewed well
    /// before it runs out); a generation whose lease runs out is ended as `interrupted`.
    pub lease: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            store: StoreConfig::Sqlite(PathBuf::from("data/ssekit.db")),
            keepalive: Duration::from_secs(30),
            retry: Duration::from_millis(1000),
            cors_origins: vec!["*".into()],
            demo_api_origins: Vec::new(),
            retention: Duration::from_secs(3600),
            max_body: 1024 * 1024,
            max_connections: 20_000,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            subscriber_buffer: 256,
            stall_timeout: Duration::from_secs(30),
            exec_pipelines: BTreeMap::new(),
            release_memory: None,
            auth: None,
            create_rate: None,
            trusted_proxies: Vec::new(),
            lease: Duration::from_secs(10),
        }
    }
}

/// What every route shares.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub runner: Runner,
    /// The publish tokens of streams being published to.
    pub tokens: routes::PublishTokens,
    /// The creation rate limit, when configured.
    pub create_limit: Option<access::CreateLimit>,
    /// Cancelled when the server shuts down: open streams end, pipelines stop.
    pub shutdown: CancellationToken,
}

impl AppState {
    fn new(config: Config, store: Arc<dyn Store>) -> Self {
        Self(Arc::new(Inner {
            create_limit: config.create_rate.map(access::CreateLimit::new),
            config,
            store,
            metrics: Metrics::default(),
            runner: Runner::default(),
            tokens: Default::default(),
            shutdown: CancellationToken::new(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn redis_options(config: &Config) -> RedisOptions {
    RedisOptions {
        buffer: config.subscriber_buffer,
        lease: config.lease,
        retention: config.retention,
        ..RedisOptions::default()
    }
}

/// Opens the configured store (a custom one is already open: it is shared). A redis store
/// connects on its first command, so opening one needs a tokio runtime but no Redis yet.
pub fn open_store(config: &Config) -> Result<Arc<dyn Store>, store::StoreError> {
    Ok(match &config.store {
        StoreConfig::Memory => Arc::new(MemoryStore::new(config.subscriber_buffer)),
        StoreConfig::Sqlite(path) => Arc::new(SqliteStore::open(path, config.subscriber_buffer)?),
        StoreConfig::Redis(url) => Arc::new(RedisStore::open(url, redis_options(config))?),
        StoreConfig::RedisCluster(nodes) => {
            Arc::new(RedisStore::open_cluster(nodes, redis_options(config))?)
        }
        StoreConfig::Custom(store) => store.clone(),
    })
}

/// Connections the kernel completes and queues for `accept` before it drops new ones. tokio's
/// `TcpListener::bind` asks for 128: a crowd of browsers reconnecting at once then loses SYNs,
/// and each lost SYN is retried a whole second later (BENCHMARKS.md, "A deep accept queue").
/// (Linux caps the value at `net.core.somaxconn`, 4096 by default.)
const BACKLOG: u32 = 4096;

/// Listens on the first of `addr`'s addresses that binds, with a deep accept queue: after a
/// network blip or a deploy every browser reconnects at once. Use it (or a listener of your own
/// with a backlog as deep) for [`serve`].
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let listener = ssekit_server::listen("127.0.0.1:0").await?;
/// println!("listening on {}", listener.local_addr()?);
/// # Ok(()) }
/// ```
pub async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As std's listeners do: a restarted server may bind while old connections linger.
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("the address resolves to nothing")))
}

/// Serves the API on `listener` until `shutdown` completes, then ends open streams, interrupts
/// running pipelines (their streams end with a recoverable `interrupted` error) and returns.
/// The streams are kept in the store `config.store` names: a built-in one, or a store of your
/// own with [`StoreConfig::Custom`] (see the [`store`] module).
pub async fn serve(
    mut config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config.max_connections = cap_connections(config.max_connections);
    let store = open_store(&config).map_err(std::io::Error::other)?;
    let state = AppState::new(config, store);
    let token = state.shutdown.clone();

    // Generations whose server died mid-run end now, so their subscribers are not left waiting.
    // A shared store that does not answer yet does not keep this instance down: its sweep loop
    // tries again, and `/healthz` says 503 until the store answers. A store of this server's
    // own that fails here is broken: the server stops.
    if let Err(e) = pipeline::recover(&state).await {
        if state.store.sweep_every().is_none() {
            return Err(std::io::Error::other(e));
        }
        tracing::warn!(error = %e, "the store does not answer at start; the sweep will try again");
    }
    // A shared store's leases run out while this server runs: it sweeps for orphans as well.
    let sweep = state
        .store
        .sweep_every()
        .map(|every| tokio::spawn(pipeline::sweep_loop(state.clone(), every)));
    let retention = tokio::spawn(retention_loop(state.clone()));
    let release = state
        .config
        .release_memory
        .map(|release| tokio::spawn(release_loop(state.clone(), release)));

    let app = routes::router(state.clone());
    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    connection::serve(state.clone(), listener, app).await;
    token.cancel();
    retention.abort();
    if let Some(sweep) = sweep {
        sweep.abort();
    }
    if let Some(release) = release {
        release.abort();
    }
    state.runner.shutdown(&state).await;
    Ok(())
}

/// Descriptors kept back from `--max-connections` for everything else the process opens: the
/// listener, the SQLite files (a writer, four readers, a checkpointer, each with its WAL and
/// shared memory), exec pipelines' pipes, and a refused connection's brief answer.
const RESERVED_FDS: u64 = 128;

/// `wanted`, lowered to what the descriptor limit leaves for connections: past it `accept`
/// fails, and nobody, not even `/healthz`, gets an answer; under it a client over the limit is
/// told `503` and when to retry.
fn cap_connections(wanted: usize) -> usize {
    let Ok((soft, _)) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    else {
        return wanted;
    };
    let room = soft.saturating_sub(RESERVED_FDS).max(16);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            max_connections = room,
            wanted,
            "the descriptor limit (ulimit -n) leaves room for fewer connections than configured"
        );
    }
    wanted.min(room)
}

/// Connections closed since the last release before memory is released again: a burst of
/// thousands of subscribers leaving frees megabytes the allocator would otherwise keep.
const RELEASE_AFTER_CLOSED: i64 = 1000;

async fn release_loop(state: AppState, release: fn()) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut peak = 0;
    loop {
        tick.tick().await;
        let open = state.metrics.connections.get();
        peak = peak.max(open);
        if peak - open >= RELEASE_AFTER_CLOSED.max(peak / 4) {
            peak = open;
            let _ = tokio::task::spawn_blocking(release).await;
        }
    }
}

async fn retention_loop(state: AppState) {
    let every =
        (state.config.retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        // Bounds the limiter's memory: clients with a whole allowance need no entry.
        if let Some(limit) = &state.create_limit {
            limit.forget_idle();
        }
        let before = store::now_ms().saturating_sub(state.config.retention.as_millis() as u64);
        match state.store.expire(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(streams = n, "expired finished streams"),
            Err(e) => tracing::warn!(error = %e, "expiry failed"),
        }
    }
}
