//! `ssekit serve`: the HTTP API, the pipelines and the demo page.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use ssekit_api::auth::Auth;
use ssekit_server::{Config, Quota, StoreConfig};

/// Arguments of `ssekit serve`; every flag can also be set by its `SSEKIT_…` environment variable.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound address is printed).
    #[arg(long, env = "SSEKIT_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Where streams are kept: `sqlite:PATH`, `memory`, `redis://HOST:PORT[/DB]` or
    /// `redis-cluster://HOST:PORT,HOST:PORT,…` (several instances on one Redis share every stream).
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
    /// With a redis store: how long a generation's instance holds it without renewing (renewed
    /// every third of it); a generation whose instance died ends as `interrupted` about this long after.
    #[arg(long, env = "SSEKIT_LEASE", default_value = "10s", value_parser = humantime::parse_duration)]
    lease: Duration,
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
    /// Turns auth on with HS256 tokens signed with this secret (at least 32 bytes), which also
    /// signs the subscribe tokens of creation answers. Prefer the variable: a flag shows in `ps`.
    #[arg(
        long,
        env = "SSEKIT_AUTH_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        conflicts_with = "auth_public_key"
    )]
    auth_secret: Option<String>,
    /// Turns auth on with tokens signed by the holder of this public key's private key: a PEM
    /// file (RSA → RS256, P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA) or a JWKS file.
    #[arg(long, env = "SSEKIT_AUTH_PUBLIC_KEY", value_name = "FILE")]
    auth_public_key: Option<PathBuf>,
    /// With --auth-public-key: a secret (at least 32 bytes) that signs the HS256 subscribe tokens
    /// of creation answers (without it they carry none).
    #[arg(
        long,
        env = "SSEKIT_AUTH_TOKEN_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        requires = "auth_public_key"
    )]
    auth_token_secret: Option<String>,
    /// Tokens must name this audience (`aud`); minted tokens carry it.
    #[arg(long, env = "SSEKIT_AUTH_AUDIENCE")]
    auth_audience: Option<String>,
    /// Tokens must come from this issuer (`iss`); minted tokens carry it.
    #[arg(long, env = "SSEKIT_AUTH_ISSUER")]
    auth_issuer: Option<String>,
    /// How long the subscribe tokens of creation answers live [default: 1h].
    #[arg(long, env = "SSEKIT_TOKEN_TTL", value_parser = humantime::parse_duration)]
    token_ttl: Option<Duration>,
    /// Creations (generations, streams, one-shot) allowed per client address: `N/s` or `N/min`
    /// (N at once, then one every 1/N of the period); over it, 429 with Retry-After. No limit
    /// when not given.
    #[arg(long, env = "SSEKIT_CREATE_RATE", value_name = "RATE", value_parser = ssekit_server::parse_create_rate)]
    create_rate: Option<Quota>,
    /// A proxy (IP address) in front of the server whose X-Forwarded-For names the client, for
    /// the rate limit (repeat for several): the rightmost entry that is not a proxy counts.
    #[arg(
        long = "trusted-proxy",
        env = "SSEKIT_TRUSTED_PROXIES",
        value_name = "IP",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<IpAddr>,
}

/// The token checker the auth flags configure; `None` when auth is off. Every mistake stops the
/// start with a message naming the flag.
fn auth(args: &ServeArgs) -> Result<Option<Auth>, String> {
    let auth = match (&args.auth_secret, &args.auth_public_key) {
        (Some(secret), _) => {
            // clap lets it through (the key it requires conflicts with --auth-secret): the
            // secret signs minted tokens itself.
            if args.auth_token_secret.is_some() {
                return Err("--auth-token-secret goes with --auth-public-key; with --auth-secret, that secret signs the minted tokens".into());
            }
            Auth::hs256(secret.as_bytes()).map_err(|e| format!("--auth-secret: {e}"))?
        }
        (None, Some(path)) => {
            let at = path.display();
            let text = std::fs::read(path)
                .map_err(|e| format!("--auth-public-key: cannot read {at}: {e}"))?;
            let auth =
                Auth::public_key(&text).map_err(|e| format!("--auth-public-key {at}: {e}"))?;
            match &args.auth_token_secret {
                Some(secret) => auth
                    .with_mint_secret(secret.as_bytes())
                    .map_err(|e| format!("--auth-token-secret: {e}"))?,
                None => auth,
            }
        }
        (None, None) => {
            let given = [
                ("--auth-audience", args.auth_audience.is_some()),
                ("--auth-issuer", args.auth_issuer.is_some()),
                ("--token-ttl", args.token_ttl.is_some()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
                return Err(format!(
                    "{flag} needs auth on: --auth-secret or --auth-public-key"
                ));
            }
            return Ok(None);
        }
    };
    let mut auth = auth;
    if let Some(audience) = &args.auth_audience {
        auth = auth.with_audience(audience);
    }
    if let Some(issuer) = &args.auth_issuer {
        auth = auth.with_issuer(issuer);
    }
    if let Some(ttl) = args.token_ttl {
        if ttl.as_secs() == 0 {
            return Err("--token-ttl must be at least 1s".into());
        }
        auth = auth.with_token_ttl(ttl.as_secs());
    }
    Ok(Some(auth))
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
    if args.lease < Duration::from_millis(300) {
        return Err("--lease must be at least 300ms".into());
    }
    let auth = auth(&args)?.map(Arc::new);
    let config = Config {
        store: args.store,
        keepalive: args.keepalive,
        retry: args.retry,
        cors_origins: args.cors_origins,
        demo_api_origins: args.demo_api_origins,
        retention: args.retention,
        lease: args.lease,
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
        auth,
        create_rate: args.create_rate,
        trusted_proxies: args.trusted_proxies,
    };
    let listener = ssekit_server::listen(&args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read the bound address from this line (with --addr 127.0.0.1:0).
    println!("ssekit listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, store = ?config.store, "serving");
    match &config.auth {
        Some(auth) => tracing::info!(
            algorithms = ?auth.algorithms(),
            creation_answers_carry_tokens = auth.mints(),
            "auth on: creating, publishing (or a stream's publish token), cancelling and subscribing need a token"
        ),
        None => tracing::info!(
            "auth off: anyone who can reach the server may create, cancel and subscribe (turn it on with --auth-secret or --auth-public-key)"
        ),
    }
    if let Some(rate) = &config.create_rate {
        tracing::info!(
            burst = rate.burst_size(),
            every = ?rate.replenish_interval(),
            trusted_proxies = ?config.trusted_proxies,
            "creations rate-limited per client address"
        );
    }
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
