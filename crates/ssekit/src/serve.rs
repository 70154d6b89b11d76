//! `ssekit serve`: the HTTP API, the pipelines and the demo page.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use clap::Args;
use ssekit_server::{Config, StoreConfig};

/// Arguments of `ssekit serve`; every flag can also be set by its `SSEKIT_…` environment variable.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound address is printed).
    #[arg(long, env = "SSEKIT_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Where streams are kept: `sqlite:PATH` or `memory`.
    #[arg(long, env = "SSEKIT_STORE", default_value = "sqlite:data/ssekit.db")]
    store: StoreConfig,
    /// Interval of keep-alive comments on idle streams.
    #[arg(long, env = "SSEKIT_KEEPALIVE", default_value = "30s", value_parser = humantime::parse_duration)]
    keepalive: Duration,
    /// The `retry:` hint: how long EventSource waits before reconnecting.
    #[arg(long, env = "SSEKIT_RETRY", default_value = "1s", value_parser = humantime::parse_duration)]
    retry: Duration,
    /// An origin allowed by CORS (repeat for several); `*` allows any.
    #[arg(
        long = "cors-origin",
        env = "SSEKIT_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "*"
    )]
    cors_origins: Vec<String>,
    /// An origin, `http(s)://HOST[:PORT]`, besides its own, whose streams the demo page may follow
    /// with `?api=` (repeat for several). None by default: the page shows what it streams on this
    /// origin, so it follows only servers trusted to sanitize it.
    #[arg(
        long = "demo-api-origin",
        env = "SSEKIT_DEMO_API_ORIGINS",
        value_delimiter = ',',
        value_parser = ssekit_demo::page::parse_api_origin
    )]
    demo_api_origins: Vec<String>,
    /// How long finished streams are kept before they are removed.
    #[arg(long, env = "SSEKIT_RETENTION", default_value = "1h", value_parser = humantime::parse_duration)]
    retention: Duration,
    /// Largest request body, in bytes.
    #[arg(long, env = "SSEKIT_MAX_BODY", default_value_t = 1024 * 1024)]
    max_body: usize,
    /// Most connections open at once, of any kind (lowered to what `ulimit -n` allows); more get 503 with Retry-After.
    #[arg(long, env = "SSEKIT_MAX_CONNECTIONS", default_value_t = 20_000)]
    max_connections: usize,
    /// How long a request head may take, from the accept or the end of the previous response (so also how long a keep-alive connection may idle).
    #[arg(long, env = "SSEKIT_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    header_timeout: Duration,
    /// How long a request body may take to arrive in full.
    #[arg(long, env = "SSEKIT_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    body_timeout: Duration,
    /// Appends each stream's live ring keeps; a subscriber further behind reads what it missed from the store.
    #[arg(long, env = "SSEKIT_SUBSCRIBER_BUFFER", default_value_t = 256)]
    subscriber_buffer: usize,
    /// How long a write to a client that stopped reading may stay pending before its connection closes.
    #[arg(long, env = "SSEKIT_STALL_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    stall_timeout: Duration,
    /// An `exec` pipeline, `NAME=COMMAND` (repeat for several): COMMAND runs under `sh -c` per generation.
    #[arg(long = "exec", env = "SSEKIT_EXEC", value_parser = parse_exec)]
    exec: Vec<(String, String)>,
}

fn parse_exec(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, cmd)) if !name.is_empty() && !cmd.trim().is_empty() && name != "demo" => {
            Ok((name.to_owned(), cmd.to_owned()))
        }
        _ => Err(format!(
            "expected NAME=COMMAND (and a name other than `demo`), got {s:?}"
        )),
    }
}

pub async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SSEKIT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if args.subscriber_buffer == 0
        || args.max_connections == 0
        || args.keepalive.is_zero()
        || args.header_timeout.is_zero()
        || args.body_timeout.is_zero()
    {
        return Err("--subscriber-buffer, --max-connections, --keepalive, --header-timeout and --body-timeout must be more than 0".into());
    }
    let config = Config {
        store: args.store,
        keepalive: args.keepalive,
        retry: args.retry,
        cors_origins: args.cors_origins,
        demo_api_origins: args.demo_api_origins,
        retention: args.retention,
        max_body: args.max_body,
        max_connections: args.max_connections,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        subscriber_buffer: args.subscriber_buffer,
        stall_timeout: args.stall_timeout,
        exec_pipelines: args.exec.into_iter().collect::<BTreeMap<_, _>>(),
        #[cfg(not(target_env = "msvc"))]
        release_memory: Some(crate::memory::release),
        #[cfg(target_env = "msvc")]
        release_memory: None,
    };
    let listener = ssekit_server::listen(&args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read the bound address from this line (with --addr 127.0.0.1:0).
    println!("ssekit listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, store = ?config.store, "serving");
    ssekit_server::serve(config, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
