//! The Worker's routes (DESIGN §2): requests are checked here with the shared API crate, then
//! handed to the Durable Object of the stream they name.
//!
//! Who may do what (DESIGN §9) is checked here too, with the shared checker
//! (`ssekit_api::auth`), after the route, the method and the stream id's syntax and before
//! anything reaches an object or a body is read: an unauthorized client learns nothing about a
//! stream and costs an object nothing. The one exception is a publish with a bearer that is not
//! a JWT: only the stream's object knows its publish token (see [`publish_auth`]).
//!
//! The native server's `--create-rate` (per-client creation rate limit) has no equivalent here:
//! on Cloudflare, limit `POST /v1/generations`, `POST /v1/streams` and `GET /v1/generate` with
//! the zone's rate limiting rules (Security → WAF → Rate limiting rules), which count per client
//! address at the edge, before the Worker runs.

use ssekit_api::auth::{self, Action, Auth};
use ssekit_api::response::{Creation, GenerationCreated, Health};
use ssekit_api::routes::{Endpoint, Route};
use ssekit_api::{ApiError, ErrorCode, GenerationSpec, StreamKind, StreamMeta};
use ssekit_demo::page;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use crate::call::Call;
use crate::config::Config;
use crate::respond::{self, internal, Answer};
use crate::stream::now_ms;

/// The header by which the Worker tells a stream's object how a publish was authorized (see
/// [`publish_auth`]); the object trusts it because no client's copy ever reaches it:
/// [`object`] drops it from the headers it forwards.
pub const PUBLISH_AUTH: &str = "x-ssekit-publish-auth";
/// [`PUBLISH_AUTH`]: a JWT granting publish to this stream was verified; no publish token needed.
pub const PUBLISH_BY_JWT: &str = "jwt";
/// [`PUBLISH_AUTH`]: auth is on and the bearer is not a JWT: the stream's publish token or
/// nothing; refused as the checker refuses it.
pub const PUBLISH_BY_TOKEN: &str = "token";

/// The pipelines the Worker runs.
const PIPELINES: &[&str] = &["demo"];

/// Every request: preflights, then the routes, then CORS on whatever they answer.
pub async fn handle(req: Request, env: Env) -> Result<Response> {
    let config = Config::from_env(&env);
    let origin = req.headers().get("origin")?;
    let preflight = ssekit_api::cors::is_preflight(
        &method(&req),
        req.headers().has("access-control-request-method")?,
    );
    if preflight {
        return respond::preflight(&config, origin.as_deref());
    }
    let res = match auth_unusable(&req, &config) {
        Some(e) => respond::error(&e),
        None => match route(req, &env, &config).await {
            Ok(res) => res,
            Err(e) => respond::error(&e),
        },
    };
    respond::with_cors(res, &config, origin.as_deref())
}

/// `500 auth_config_invalid` for every request but the health check while the auth variables
/// cannot be used (the reason is in the log, said when they were read: see `config::AuthConfig`).
fn auth_unusable(req: &Request, config: &Config) -> Option<ApiError> {
    if config.auth.is_ok() || req.path() == Endpoint::Health.path() {
        return None;
    }
    Some(ApiError::new(
        ErrorCode::AuthConfigInvalid,
        "the server's auth configuration is invalid (its log says why); it answers nothing \
         until its operator fixes it",
    ))
}

/// Seconds since the epoch, the clock of `exp` and `nbf`.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Checks that the request's token allows `action` (nothing to check with auth off): the
/// `Authorization` header, and on `GET` routes `?token=` and the `ssekit_token` cookie. A
/// refusal's reason is logged at debug level, with the path but never the query or the token.
fn authorize(req: &Request, config: &Config, action: Action<'_>) -> Result<(), ApiError> {
    let Some(auth) = config.auth.as_ref().ok().and_then(Option::as_ref) else {
        return Ok(());
    };
    let presented = presented_token(req, matches!(req.method(), Method::Get | Method::Head));
    auth.authorize(presented.as_ref(), &action, now_secs())
        .inspect_err(|e| refused(req, e))
}

/// The request's token as [`auth::find_token`] finds it.
fn presented_token(req: &Request, reads: bool) -> Option<auth::Presented> {
    let header = |name| req.headers().get(name).ok().flatten();
    let url = req.url().ok();
    let query = url.as_ref().and_then(|u| u.query()).unwrap_or("");
    let authorization = header("authorization");
    let cookie = if reads { header("cookie") } else { None };
    auth::find_token(authorization.as_deref(), query, cookie.as_deref(), reads)
}

fn refused(req: &Request, e: &ApiError) {
    worker::console_debug!(
        "ssekit worker: {} {}: refused: {e}",
        req.method(),
        req.path()
    );
}

/// How the stream's object is to check a publish, told by [`PUBLISH_AUTH`]: with auth off, not
/// at all (`None`: the object checks the publish token, as always). With auth on, a request
/// without a bearer is refused `token_missing`, and a JWT is checked here (`Authorization` only:
/// publishing is not a read) — one granting publish to `id` is [`PUBLISH_BY_JWT`], any other is
/// refused. A bearer that is not a JWT may still be the stream's publish token, which only its
/// object knows: [`PUBLISH_BY_TOKEN`], and the object refuses it as the checker would when it
/// does not match (or the stream does not exist: no answer about it either).
fn publish_auth(
    req: &Request,
    config: &Config,
    id: &str,
) -> Result<Option<&'static str>, ApiError> {
    let Some(auth) = config.auth.as_ref().ok().and_then(Option::as_ref) else {
        return Ok(None);
    };
    let presented = presented_token(req, false);
    match auth.authorize(presented.as_ref(), &Action::Publish(id), now_secs()) {
        Ok(()) => Ok(Some(PUBLISH_BY_JWT)),
        // A JWT has dots; a publish token (`format_id`) never does.
        Err(_) if presented.is_some_and(|p| !p.token.contains('.')) => Ok(Some(PUBLISH_BY_TOKEN)),
        Err(e) => {
            refused(req, &e);
            Err(e)
        }
    }
}

/// The subscribe token a creation answer carries, when auth is on and has a secret to sign it.
fn add_subscribe_token(config: &Config, answer: &mut impl Creation, id: &str) {
    let auth: Option<&Auth> = config.auth.as_ref().ok().and_then(|a| a.as_deref());
    if let Some(token) = auth.and_then(|a| a.mint_subscribe(id, now_secs())) {
        answer.add_subscribe_token(&token);
    }
}

/// The request's method as sent: `worker::Method` reads an unknown one (`PROPFIND`) as `GET`.
fn method(req: &Request) -> http::Method {
    http::Method::from_bytes(req.inner().method().as_bytes()).unwrap_or(http::Method::GET)
}

/// Dispatches on the shared route table (`ssekit_api::routes`), which answers unknown paths
/// (404) and methods (405) and decodes the path's parameters.
async fn route(mut req: Request, env: &Env, config: &Config) -> Answer {
    match Route::recognize(&method(&req), &req.path())? {
        Route::Index => {
            let res = respond::typed(
                "text/html; charset=utf-8",
                page::index(&config.demo_api_origins).as_bytes().to_vec(),
                "no-cache",
            )?;
            res.headers()
                .set("content-security-policy", page::CSP)
                .map_err(internal)?;
            Ok(res)
        }
        Route::Asset { file } => {
            let (content_type, body) = page::asset(&file).ok_or_else(ApiError::unknown_asset)?;
            respond::typed(content_type, body.to_vec(), "no-cache")
        }
        Route::Health => respond::json(200, &Health::OK),
        // The runtime's own analytics stand in for Prometheus here.
        Route::Metrics => Err(ApiError::unknown_route()),
        Route::OpenApi => respond::typed(
            "application/json",
            ssekit_api::openapi::json().as_bytes().to_vec(),
            "no-cache",
        ),
        Route::CreateGeneration => {
            authorize(&req, config, Action::Create)?;
            let body =
                respond::read_body(&mut req, config.max_body, config.body_timeout_ms).await?;
            let spec = GenerationSpec::from_request(ssekit_api::parse_json(&body)?, PIPELINES)?;
            let id = start(env, &spec).await?;
            let mut answer = GenerationCreated::new(&id);
            add_subscribe_token(config, &mut answer, &id);
            let res = respond::json(201, &answer)?;
            res.headers()
                .set("location", &format!("/v1/generations/{id}"))
                .map_err(internal)?;
            Ok(res)
        }
        Route::Generate => {
            let url = req.url().map_err(internal)?;
            let query = url.query().unwrap_or("");
            // The resume position says which it is: a read of the stream it names, or a start.
            let last = last_event_id(&req, query)?;
            let id = match &last {
                Some(last) => {
                    authorize(&req, config, Action::Subscribe(last.stream()))?;
                    last.stream().to_owned()
                }
                None => {
                    authorize(&req, config, Action::Create)?;
                    start(env, &GenerationSpec::from_query(query, PIPELINES)?).await?
                }
            };
            events(env, &id, last.as_ref()).await
        }
        Route::Snapshot { id } => {
            ssekit_api::stream_id(&id)?;
            authorize(&req, config, Action::Subscribe(&id))?;
            object(env, &id, Call::Snapshot, None).await
        }
        Route::Cancel { id } => {
            ssekit_api::stream_id(&id)?;
            authorize(&req, config, Action::Cancel(&id))?;
            object(env, &id, Call::Cancel, None).await
        }
        Route::GenerationEvents { id } | Route::StreamEvents { id } => {
            let url = req.url().map_err(internal)?;
            // As on the native server: a malformed resume position (400), an id that cannot be
            // one (404), then the token.
            let last = last_event_id(&req, url.query().unwrap_or(""))?;
            ssekit_api::stream_id(&id)?;
            authorize(&req, config, Action::Subscribe(&id))?;
            events(env, &id, last.as_ref()).await
        }
        Route::Image { id, image } => {
            ssekit_api::stream_id(&id)?;
            authorize(&req, config, Action::Subscribe(&id))?;
            object(env, &id, Call::Image(image), None).await
        }
        Route::Document { id } => {
            ssekit_api::stream_id(&id)?;
            authorize(&req, config, Action::Subscribe(&id))?;
            object(env, &id, Call::Document, None).await
        }
        Route::CreateStream => {
            authorize(&req, config, Action::Create)?;
            create_stream(&mut req, env, config).await
        }
        Route::Publish { id } => {
            ssekit_api::stream_id(&id)?;
            let how = publish_auth(&req, config, &id)?;
            object(env, &id, Call::Publish, Some((req, how))).await
        }
    }
}

fn last_event_id(
    req: &Request,
    query: &str,
) -> std::result::Result<Option<ssekit_events::EventId>, ApiError> {
    let header = req.headers().get("last-event-id").ok().flatten();
    ssekit_api::last_event_id(header.as_deref().map(str::as_bytes), query)
}

/// A new random id, formatted as the native server's.
fn new_id(prefix: &str) -> std::result::Result<String, ApiError> {
    let mut random = [0u8; ssekit_api::ID_RANDOM_BYTES];
    getrandom::fill(&mut random).map_err(|e| internal(worker::Error::RustError(e.to_string())))?;
    Ok(ssekit_api::format_id(prefix, &random))
}

/// Creates a generation's stream, whose object starts its pipeline at once.
async fn start(env: &Env, spec: &GenerationSpec) -> std::result::Result<String, ApiError> {
    let id = new_id("gen_")?;
    let meta = StreamMeta::new(id.clone(), StreamKind::Generation, spec.info(), now_ms());
    init(env, &meta).await?;
    Ok(id)
}

async fn init(env: &Env, meta: &StreamMeta) -> std::result::Result<(), ApiError> {
    let body = serde_json::to_string(meta).map_err(|e| ApiError::invalid(e.to_string()))?;
    let mut req = RequestInit::new();
    req.with_method(Call::Init.method())
        .with_body(Some(body.into()));
    let res = send(env, &meta.id, &Call::Init, &req).await?;
    if res.status_code() == 201 {
        Ok(())
    } else {
        Err(ApiError::store_unavailable())
    }
}

async fn create_stream(req: &mut Request, env: &Env, config: &Config) -> Answer {
    let body = respond::read_body(req, config.max_body, config.body_timeout_ms).await?;
    let (meta, mut answer) =
        ssekit_api::create_stream(&body, new_id("str_")?, new_id("pub_")?, now_ms())?;
    init(env, &meta).await?;
    add_subscribe_token(config, &mut answer, &meta.id);
    respond::json(201, &answer)
}

async fn events(env: &Env, id: &str, after: Option<&ssekit_events::EventId>) -> Answer {
    object(env, id, Call::Events(after.cloned()), None).await
}

/// Hands a request to the object of stream `id` (checked: see [`ssekit_api::stream_id`]).
/// A forwarded request keeps its headers and body (the publish API reads them there), but never
/// a client's [`PUBLISH_AUTH`]: that one is the Worker's, set to `how` when given.
async fn object(env: &Env, id: &str, call: Call, req: Option<(Request, Option<&str>)>) -> Answer {
    let mut init = RequestInit::new();
    init.with_method(call.method());
    if let Some((req, how)) = req {
        let headers = Headers::new();
        for (name, value) in req.headers().entries() {
            if !name.eq_ignore_ascii_case(PUBLISH_AUTH) {
                headers.append(&name, &value).map_err(internal)?;
            }
        }
        if let Some(how) = how {
            headers.set(PUBLISH_AUTH, how).map_err(internal)?;
        }
        init.with_headers(headers);
        init.with_body(req.inner().body().map(Into::into));
    }
    send(env, id, &call, &init).await
}

async fn send(env: &Env, id: &str, call: &Call, init: &RequestInit) -> Answer {
    let namespace = env.durable_object("STREAMS").map_err(internal)?;
    let stub = namespace.get_by_name(id).map_err(internal)?;
    let req = Request::new_with_init(&call.url(id), init).map_err(internal)?;
    stub.fetch_with_request(req).await.map_err(internal)
}
