//! Settings, from the Worker's variables (`[vars]` in wrangler.toml, `text` bindings under
//! workerd), with the native server's defaults.

use std::cell::RefCell;
use std::rc::Rc;

use ssekit_api::auth::Auth;
use worker::Env;

/// Who may do what (DESIGN §9), as configured: off (`Ok(None)`), on, or a configuration that
/// cannot be used (`Err`, why). The native server refuses to start with a bad key; a Worker
/// cannot refuse to start, so it answers every request but `/healthz` and CORS preflights with
/// `500 auth_config_invalid` (see `routes::handle`) and logs why. It never falls back to auth
/// off: a deployer who set a key meant it.
pub type AuthConfig = Result<Option<Rc<Auth>>, String>;

/// The auth variables, in the order [`build_auth`] takes them.
const AUTH_VARS: [&str; 6] = [
    "AUTH_SECRET",
    "AUTH_PUBLIC_KEY",
    "AUTH_TOKEN_SECRET",
    "AUTH_AUDIENCE",
    "AUTH_ISSUER",
    "TOKEN_TTL_MS",
];

type AuthVars = [Option<String>; 6];

thread_local! {
    /// The last auth configuration built, by the variables' text. `Config::from_env` runs on
    /// every request; parsing a key each time would cost little (a PEM or JWKS parse, no
    /// crypto), but the configuration is said in the log once per isolate, not per request.
    static AUTH: RefCell<Option<(AuthVars, AuthConfig)>> = const { RefCell::new(None) };
}

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
    /// Who may do what (`AUTH_SECRET` or `AUTH_PUBLIC_KEY`, `AUTH_TOKEN_SECRET`,
    /// `AUTH_AUDIENCE`, `AUTH_ISSUER`, `TOKEN_TTL_MS`).
    pub auth: AuthConfig,
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
            auth: auth(AUTH_VARS.map(|name| var(name).filter(|v| !v.trim().is_empty()))),
        }
    }
}

/// The auth configuration of these variables: the cached one when they have not changed.
fn auth(vars: AuthVars) -> AuthConfig {
    AUTH.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((seen, config)) = cache.as_ref() {
            if *seen == vars {
                return config.clone();
            }
        }
        let config = build_auth(&vars);
        match &config {
            Ok(None) => worker::console_log!(
                "ssekit worker: auth is off: anyone may create, publish and read \
                 (set AUTH_SECRET or AUTH_PUBLIC_KEY to turn it on)"
            ),
            Ok(Some(auth)) => worker::console_log!(
                "ssekit worker: auth is on ({}); creation answers carry {} subscribe token",
                auth.algorithms().join(", "),
                if auth.mints() { "a" } else { "no" }
            ),
            Err(why) => worker::console_error!(
                "ssekit worker: the auth configuration is invalid, every request but /healthz \
                 is answered 500 auth_config_invalid: {why}"
            ),
        }
        *cache = Some((vars, config.clone()));
        config
    })
}

/// Builds the checker from the variables (unset or blank: `None`).
fn build_auth(vars: &AuthVars) -> AuthConfig {
    let [secret, public_key, token_secret, audience, issuer, ttl_ms] = vars;
    let mut auth = match (secret, public_key) {
        (None, None) => {
            // Auth settings without a key are a mistake, not a request for auth off.
            let stray = [
                (token_secret, "AUTH_TOKEN_SECRET"),
                (audience, "AUTH_AUDIENCE"),
                (issuer, "AUTH_ISSUER"),
            ]
            .into_iter()
            .find_map(|(value, name)| value.as_ref().map(|_| name));
            return match stray {
                Some(name) => Err(format!(
                    "{name} is set, but neither AUTH_SECRET nor AUTH_PUBLIC_KEY"
                )),
                None => Ok(None),
            };
        }
        (Some(_), Some(_)) => {
            return Err("AUTH_SECRET and AUTH_PUBLIC_KEY exclude each other: set one".into())
        }
        (Some(secret), None) => {
            if token_secret.is_some() {
                return Err(
                    "AUTH_TOKEN_SECRET goes with AUTH_PUBLIC_KEY; with AUTH_SECRET, \
                            that secret signs the subscribe tokens"
                        .into(),
                );
            }
            Auth::hs256(secret.as_bytes()).map_err(|e| format!("AUTH_SECRET: {e}"))?
        }
        (None, Some(key)) => {
            let auth =
                Auth::public_key(key.as_bytes()).map_err(|e| format!("AUTH_PUBLIC_KEY: {e}"))?;
            match token_secret {
                Some(s) => auth
                    .with_mint_secret(s.as_bytes())
                    .map_err(|e| format!("AUTH_TOKEN_SECRET: {e}"))?,
                None => auth,
            }
        }
    };
    if let Some(audience) = audience {
        auth = auth.with_audience(audience.trim());
    }
    if let Some(issuer) = issuer {
        auth = auth.with_issuer(issuer.trim());
    }
    if let Some(ms) = ttl_ms {
        let ms: u64 = ms
            .trim()
            .parse()
            .map_err(|_| format!("TOKEN_TTL_MS {ms:?} is not a number of milliseconds"))?;
        auth = auth.with_token_ttl(ms.div_ceil(1000));
    }
    Ok(Some(Rc::new(auth)))
}
