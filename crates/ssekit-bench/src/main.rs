//! `ssekit-bench`: a load generator for SSE servers — ssekit and the peers it is measured
//! against (nginx + nchan, a plain Node.js server). It prints one JSON object of figures per
//! run; `bench/run` starts the systems, repeats the runs and writes `BENCHMARKS.md`.
//!
//! A binary of its own, so the shipped `ssekit` carries neither it nor what it depends on.
//!
//! ```text
//! ssekit-bench idle -n 1000 --system ssekit --url http://127.0.0.1:8080 --pid 1234
//! ```

mod conn;
mod scenarios;
mod target;

use clap::{Parser, ValueEnum};

/// What to measure.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Scenario {
    /// N idle subscribers held open: the server's RSS per subscriber.
    Idle,
    /// One stream, N subscribers, events published at a rate (0: as fast as accepted).
    Fanout,
    /// M concurrent demo generations, one subscriber each.
    Generations,
    /// One subscriber replays a stream of K events from its start.
    Replay,
    /// Events appended through the publish API, in batches, by several publishers.
    Append,
    /// Cycles of N subscribers connecting and leaving: does RSS come back?
    Churn,
    /// Appends straight into a store, in process (ssekit's stores only).
    StoreAppend,
    /// Several instances on one shared store: N generations started on the first instance
    /// (`--url A,B,…`), each followed on another; the first instance (`--pid`, first) is killed
    /// with SIGKILL and the time until each subscriber receives the `interrupted` terminal is
    /// measured (ssekit on a shared store only).
    Takeover,
}

/// Which kind of server is at `--url`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum System {
    /// `ssekit serve`.
    Ssekit,
    /// nginx with nchan (`/pub/{id}`, `/sub/{id}`).
    Nchan,
    /// The plain Node.js peer in `bench/node-peer.mjs`.
    Node,
}

/// Measure an SSE server: idle connections, fan-out, generations, replay, append, churn.
#[derive(Parser, Debug, Clone)]
#[command(name = "ssekit-bench", version, about)]
pub struct BenchArgs {
    /// The scenario.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// The kind of server under test.
    #[arg(long, value_enum, default_value = "ssekit")]
    pub system: System,
    /// The server's base URL; several instances of one system sharing a store:
    /// comma-separated. Subscribers are spread over them round-robin; streams are created
    /// (and generations started, for `generations`) as described per scenario.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    pub url: Vec<String>,
    /// The server's process ids (comma-separated: nginx's workers), to read RSS from /proc.
    /// For `takeover`: the first is the process serving the first URL, the one killed.
    #[arg(long, value_delimiter = ',')]
    pub pid: Vec<u32>,
    /// With several URLs: publisher `p` publishes through URL `p mod n` (default: all through
    /// the first).
    #[arg(long)]
    pub spread: bool,
    /// Subscribers (idle, fanout, churn) or generations.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub connections: usize,
    /// Events per second to publish (fanout; 0 = as fast as the server accepts).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Events to publish (fanout, replay, append, store-append).
    #[arg(long, short = 'k', default_value_t = 10_000)]
    pub events: u64,
    /// Events per publish request (and per in-process append).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Concurrent publishers (append, store-append).
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Cycles (churn).
    #[arg(long, default_value_t = 10)]
    pub cycles: usize,
    /// Pause between a generation's events, ms (generations).
    #[arg(long, default_value_t = 10)]
    pub delay_ms: u64,
    /// Blocks per generation (generations).
    #[arg(long, default_value_t = 2)]
    pub blocks: u32,
    /// Loopback source addresses to spread connections over (127.0.0.1 …).
    #[arg(long, default_value_t = 4)]
    pub sources: u8,
    /// Bytes of padding in each published event.
    #[arg(long, default_value_t = 64)]
    pub payload: usize,
    /// The store for store-append: `memory` or `sqlite:PATH`.
    #[arg(long, default_value = "memory")]
    pub store: String,
}

// The allocator of the `ssekit` binary, so the in-process store figures are the server's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = BenchArgs::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ssekit-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    raise_fd_limit();
    let figures = scenarios::run(&args).await?;
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// Many connections need many file descriptors: take the hard limit.
fn raise_fd_limit() {
    if let Ok((_, hard)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    {
        let _ =
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard);
    }
}
