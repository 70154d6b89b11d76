//! The Worker's routes (DESIGN §2): requests are checked here with the shared API crate, then
//! handed to the Durable Object of the stream they name.

use serde_json::json;
use ssekit_api::{ApiError, GenerationSpec, StreamKind, StreamMeta};
use ssekit_demo::page;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use crate::config::Config;
use crate::respond::{self, internal, Answer};
use crate::stream::now_ms;

/// The pipelines the Worker runs.
const PIPELINES: &[&str] = &["demo"];

/// Every request: preflights, then the routes, then CORS on whatever they answer.
pub async fn handle(req: Request, env: Env) -> Result<Response> {
    let config = Config::from_env(&env);
    let origin = req.headers().get("origin")?;
    if req.method() == Method::Options && req.headers().has("access-control-request-method")? {
        return respond::preflight(&config, origin.as_deref());
    }
    let res = match route(req, &env, &config).await {
        Ok(res) => res,
        Err(e) => respond::error(&e),
    };
    respond::with_cors(res, &config, origin.as_deref())
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

async fn route(mut req: Request, env: &Env, config: &Config) -> Answer {
    let path = req.path();
    let method = req.method();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = method == Method::Get || method == Method::Head;
    match segments.as_slice() {
        [""] if get => {
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
        ["assets", file] if get => {
            let file = ssekit_api::path_segment(file).ok_or_else(ApiError::unknown_asset)?;
            let (content_type, body) = page::asset(&file).ok_or_else(ApiError::unknown_asset)?;
            respond::typed(content_type, body.to_vec(), "no-cache")
        }
        ["healthz"] if get => respond::json(200, &json!({ "status": "ok" })),
        ["v1", "generations"] if method == Method::Post => {
            let body =
                respond::read_body(&mut req, config.max_body, config.body_timeout_ms).await?;
            let spec = GenerationSpec::from_request(ssekit_api::parse_json(&body)?, PIPELINES)?;
            let id = start(env, &spec).await?;
            let res = respond::json(201, &ssekit_api::urls(&id))?;
            res.headers()
                .set("location", &format!("/v1/generations/{id}"))
                .map_err(internal)?;
            Ok(res)
        }
        ["v1", "generate"] if get => {
            let url = req.url().map_err(internal)?;
            let query = url.query().unwrap_or("");
            let last = last_event_id(&req, query)?;
            let id = match &last {
                Some(last) => last.stream().to_owned(),
                None => start(env, &GenerationSpec::from_query(query, PIPELINES)?).await?,
            };
            events(env, &id, last.as_ref()).await
        }
        ["v1", "generations", id] if get => object(env, id, Method::Get, "snapshot", None).await,
        ["v1", "generations", id] if method == Method::Delete => {
            object(env, id, Method::Post, "cancel", None).await
        }
        ["v1", "generations", id, "events"] | ["v1", "streams", id, "events"] if get => {
            let url = req.url().map_err(internal)?;
            let last = last_event_id(&req, url.query().unwrap_or(""))?;
            events(env, id, last.as_ref()).await
        }
        ["v1", "generations", id, "images", image] if get => {
            // Decoded once like the id (not UTF-8: no image has that name, the object's 404),
            // sent on encoded and decoded by the object.
            let image = ssekit_api::path_segment(image).unwrap_or_default();
            let action = format!("image/{}", urlencode(&image));
            object(env, id, Method::Get, &action, None).await
        }
        ["v1", "generations", id, "document"] if get => {
            object(env, id, Method::Get, "document", None).await
        }
        ["v1", "streams"] if method == Method::Post => create_stream(&mut req, env, config).await,
        ["v1", "streams", id, "events"] if method == Method::Post => {
            object(env, id, Method::Post, "publish", Some(req)).await
        }
        [""]
        | ["assets", _]
        | ["healthz"]
        | ["v1", "generations"]
        | ["v1", "generate"]
        | ["v1", "generations", _]
        | ["v1", "generations", _, "events" | "document"]
        | ["v1", "generations", _, "images", _]
        | ["v1", "streams"]
        | ["v1", "streams", _, "events"] => Err(method_not_allowed()),
        _ => Err(ApiError::not_found("no such route")),
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
    getrandom::fill(&mut random)
        .map_err(|e| internal(worker::Error::RustError(e.to_string())))?;
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
    req.with_method(Method::Post).with_body(Some(body.into()));
    let res = call(env, &meta.id, "init", &req).await?;
    if res.status_code() == 201 {
        Ok(())
    } else {
        Err(ApiError::store_unavailable())
    }
}

async fn create_stream(req: &mut Request, env: &Env, config: &Config) -> Answer {
    let body = respond::read_body(req, config.max_body, config.body_timeout_ms).await?;
    let (meta, answer) =
        ssekit_api::create_stream(&body, new_id("str_")?, new_id("pub_")?, now_ms())?;
    init(env, &meta).await?;
    respond::json(201, &answer)
}

async fn events(env: &Env, id: &str, after: Option<&ssekit_events::EventId>) -> Answer {
    let action = match after {
        Some(eid) => format!("events?after={}", urlencode(&eid.to_string())),
        None => "events".into(),
    };
    object(env, id, Method::Get, &action, None).await
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Hands a request to the object of stream `id`, a path segment as sent: percent-decoded once,
/// as on the native server; one that cannot be an id (or is not UTF-8) is not found. A
/// forwarded request keeps its headers and body (the publish API reads them there).
async fn object(env: &Env, id: &str, method: Method, action: &str, req: Option<Request>) -> Answer {
    let id = ssekit_api::stream_id_in_path(id)?;
    let id = id.as_str();
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(req) = req {
        let headers = Headers::new();
        for (name, value) in req.headers().entries() {
            headers.append(&name, &value).map_err(internal)?;
        }
        init.with_headers(headers);
        init.with_body(req.inner().body().map(Into::into));
    }
    call(env, id, action, &init).await
}

async fn call(env: &Env, id: &str, action: &str, init: &RequestInit) -> Answer {
    let namespace = env.durable_object("STREAMS").map_err(internal)?;
    let stub = namespace.get_by_name(id).map_err(internal)?;
    let req =
        Request::new_with_init(&format!("https://stream/{id}/{action}"), init).map_err(internal)?;
    stub.fetch_with_request(req).await.map_err(internal)
}
