//! Settings, from the Worker's variables (`[vars]` in wrangler.toml, `text` bindings under
//! workerd), with the native server's defaults.

use worker::Env;

/// What the Worker and its objects read from their environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `retry:` hint, ms (`RETRY_MS`).
    pub retry_ms: u64,
    /// Between keep-alive comments, ms (`KEEPALIVE_MS`).
    pub keepalive_ms: u64,
    /// Allowed origins, `*` for any (`CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// Origins besides its own whose API the demo page may follow with `?api=`
    /// (`DEMO_API_ORIGINS`, comma-separated; malformed ones are left out).
    pub demo_api_origins: Vec<String>,
    /// Largest request body, bytes (`MAX_BODY`).
    pub max_body: usize,
    /// Frames a slow subscriber may have waiting before it is disconnected (`SUBSCRIBER_BUFFER`).
    pub subscriber_buffer: usize,
    /// Bytes a slow subscriber may have waiting before it is disconnected
    /// (`SUBSCRIBER_BUFFER_BYTES`): frames can be large, so a count alone bounds nothing.
    pub subscriber_buffer_bytes: usize,
    /// A connection whose last chunk has not been taken for this long is stalled and closed, ms
    /// (`STALL_TIMEOUT_MS`, the native `--stall-timeout`).
    pub stall_timeout_ms: u64,
    /// A request body must have arrived within this, ms (`BODY_TIMEOUT_MS`, the native
    /// `--body-timeout`).
    pub body_timeout_ms: u64,
    /// How long a finished stream is kept, ms (`RETENTION_MS`).
    pub retention_ms: u64,
}

impl Config {
    /// Reads the variables; a missing or unreadable one keeps its default.
    pub fn from_env(env: &Env) -> Self {
        // Read as plain values: an unset `fromEnvironment` binding is null, which `Env::var`
        // cannot take.
        let var = |name: &str| {
            js_sys::Reflect::get(env, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let num = |name: &str, default: u64| {
            var(name)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Self {
            retry_ms: num("RETRY_MS", 1000),
            keepalive_ms: num("KEEPALIVE_MS", 30_000).max(100),
            cors_origins: var("CORS_ORIGINS")
                .unwrap_or_else(|| "*".into())
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            demo_api_origins: var("DEMO_API_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .filter_map(|o| ssekit_demo::page::parse_api_origin(o).ok())
                .collect(),
            max_body: num("MAX_BODY", 1024 * 1024) as usize,
            subscriber_buffer: num("SUBSCRIBER_BUFFER", 256).max(1) as usize,
            subscriber_buffer_bytes: num("SUBSCRIBER_BUFFER_BYTES", 4 * 1024 * 1024).max(1)
                as usize,
            stall_timeout_ms: num("STALL_TIMEOUT_MS", 30_000).max(100),
            body_timeout_ms: num("BODY_TIMEOUT_MS", 30_000).max(100),
            retention_ms: num("RETENTION_MS", 3600 * 1000),
        }
    }
}
