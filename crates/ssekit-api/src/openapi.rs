//! The OpenAPI 3.1 document of the HTTP API, built from the request and answer types
//! ([`crate::request`], [`crate::response`], [`crate::error`]) and the event vocabulary. The
//! native server and the Worker serve it at `GET /openapi.json`; `docs/openapi.json` is a copy a
//! test keeps current (`SSEKIT_WRITE_OPENAPI=1 cargo test -p ssekit-api openapi` rewrites it).
//!
//! Every route lists every status it can answer: its successes, and its errors from the
//! [`ErrorCode`] catalogue, grouped by status with the codes named in the description.
//!
//! ```
//! let doc: serde_json::Value = serde_json::from_str(ssekit_api::openapi::json()).unwrap();
//! assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
//! assert!(doc["paths"]["/v1/generations/{id}/events"]["get"].is_object());
//! ```

use std::collections::BTreeMap;

use ssekit_events::{EventName, APP_NAME_PATTERN, APP_NAME_RULE, MAX_APP_NAME};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    Content, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ErrorBody, ErrorCode};
use crate::publish::PublishRequest;
use crate::request::GenerationRequest;
use crate::response::{
    Cancelled, GenerationCreated, GenerationSnapshot, Health, Published, StreamCreated,
};

use ErrorCode::*;

/// The document, as compact JSON (what `GET /openapi.json` answers), built once per process
/// (per isolate on the Worker).
pub fn json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serializes")
    })
}

/// The document, as indented JSON with a final newline (what `docs/openapi.json` holds).
pub fn pretty_json() -> String {
    let mut out = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    out.push('\n');
    out
}

/// How a route may be authorized (DESIGN §9, docs/decisions.md "Who may do what").
#[derive(Clone, Copy)]
enum Access {
    /// Open to anyone.
    Open,
    /// Auth off: open. Auth on: a bearer token (a `POST`: a cookie is never read).
    Bearer,
    /// Auth off: open. Auth on: a bearer, `?token=` or the `ssekit_token` cookie.
    Read,
    /// A bearer always: the stream's publish token, or (auth on) a JWT that may publish.
    Publish,
}

/// Errors any request may get before its route is known: a head the fast path refuses, the
/// connection limit, and (Worker) an unusable auth configuration.
const EVERY_ROUTE: &[ErrorCode] = &[
    BadRequest,
    RequestTimeout,
    HeadersTooLarge,
    TooManyConnections,
];
/// A token's refusals, on routes that need one when auth is on.
const TOKEN: &[ErrorCode] = &[TokenMissing, TokenInvalid, TokenExpired, Forbidden];
/// What reading a request body can answer.
const BODY: &[ErrorCode] = &[
    InvalidJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidRequest,
];
/// What naming a stream can answer: no such stream, expired, or a store that failed.
const STREAM: &[ErrorCode] = &[NotFound, Expired, StoreUnavailable];

/// A string parameter.
fn param(name: &str, place: ParameterIn, required: bool, description: &str) -> ParameterBuilder {
    let required = if required {
        Required::True
    } else {
        Required::False
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(required)
        .description(Some(description))
        .schema(Some(string()))
}

fn id_param() -> ParameterBuilder {
    param(
        "id",
        ParameterIn::Path,
        true,
        "A stream id, `[A-Za-z0-9_-]{1,64}` (anything else names no stream: 404).",
    )
}

fn idempotency_key_param() -> ParameterBuilder {
    param(
        "Idempotency-Key",
        ParameterIn::Header,
        false,
        "Makes the publish safe to retry: 1 to 255 visible ASCII characters (0x21-0x7E), \
         else `400 invalid_idempotency_key`. The first request with a key stores its events; \
         a later one with the same key and the same events stores nothing and answers as the \
         first did, with `Idempotency-Replayed: true`; with other events it is \
         `422 idempotency_key_reused`. Keys are per stream and kept as long as the stream.",
    )
    .schema(Some(Schema::from(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(crate::publish::MAX_IDEMPOTENCY_KEY))
            .pattern(Some("^[!-~]{1,255}$")),
    )))
}

fn last_event_id_params() -> [ParameterBuilder; 2] {
    [
        param(
            "Last-Event-ID",
            ParameterIn::Header,
            false,
            "Resume after this event id (`{streamId}:{seq}`, `{streamId}:0` is before the \
             first). Wins over `lastEventId`. Sent once: several values are a 400.",
        ),
        param(
            "lastEventId",
            ParameterIn::Query,
            false,
            "Resume after this event id when the `Last-Event-ID` header is not sent.",
        ),
    ]
}

fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn json_content<T: ToSchema>() -> Content {
    Content::new(Some(schema_ref(&T::name())))
}

fn text_content() -> Content {
    Content::new(Some(string()))
}

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer))
        .description(Some("Seconds to wait before retrying."))
        .build()
}

fn www_authenticate() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(string())
        .description(Some(
            "`Bearer` (RFC 6750), with `error=\"invalid_token\"` for `token_invalid` and \
             `token_expired`.",
        ))
        .build()
}

/// The challenge of a `403` from a valid token without the right; on the publish route, one
/// refused for another reason has none.
fn insufficient_scope(access: Access) -> utoipa::openapi::header::Header {
    let mut description = String::from(
        "`Bearer error=\"insufficient_scope\"` (RFC 6750 §3.1), when auth is on and the token is \
         valid but does not grant this request (a token from the `ssekit_token` cookie grants \
         subscribe only).",
    );
    if matches!(access, Access::Publish) {
        description.push_str(
            " Absent on the `403`s no token's rights would change: publishing to a generation, \
             and (auth off) a publish token that is not the stream's.",
        );
    }
    HeaderBuilder::new()
        .schema(string())
        .description(Some(description))
        .build()
}

/// The description of the event stream every SSE route answers: the frame and the vocabulary.
fn event_stream_description() -> String {
    let mut events = String::new();
    for name in EventName::ALL {
        events.push_str(&format!(
            "- `{}`: `#/components/schemas/{}`\n",
            name.as_str(),
            name.payload_type()
        ));
    }
    format!(
        "`text/event-stream`: a `retry:` hint, then one frame per event — `event: NAME`, \
         `data: JSON` (one line), `id: {{streamId}}:{{seq}}` — and `: keep-alive` comments. \
         History first, then live events, no gap and no duplicate; the stream ends after its \
         terminal event (`generation-complete`, or an `error` with `recoverable: false` or \
         stage `interrupted`).\n\nThe 13 events of the vocabulary, and their data's schema:\n\n\
         {events}\nApplication events: any other name — {APP_NAME_RULE} — with any JSON \
         data; never terminal."
    )
}

/// One route of the API.
struct Route {
    method: HttpMethod,
    path: &'static str,
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: Option<String>,
    access: Access,
    /// Path parameters, query parameters, headers.
    params: Vec<ParameterBuilder>,
    body: Option<(&'static str, Content)>,
    /// Successes: status, description, content type and body, headers.
    ok: Vec<Success>,
    /// Errors besides [`EVERY_ROUTE`]'s.
    errors: Vec<ErrorCode>,
}

struct Success {
    status: u16,
    description: String,
    content: Vec<(&'static str, Content)>,
    headers: Vec<(&'static str, utoipa::openapi::header::Header)>,
}

impl Success {
    fn new(status: u16, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            content: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn content(mut self, content_type: &'static str, content: Content) -> Self {
        self.content.push((content_type, content));
        self
    }

    fn header(mut self, name: &'static str, description: &str) -> Self {
        let header = HeaderBuilder::new()
            .schema(string())
            .description(Some(description))
            .build();
        self.headers.push((name, header));
        self
    }
}

fn codes(lists: &[&[ErrorCode]]) -> Vec<ErrorCode> {
    let mut out: Vec<ErrorCode> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    out.sort_by_key(|c| ErrorCode::ALL.iter().position(|a| a == c));
    out.dedup();
    out
}

/// One event of a stream as an SSE parser yields it (`event`, `data`, `id`, and `retry` on the
/// first): one alternative per event of the vocabulary, its `data` the JSON of its payload's
/// schema, and one for application events.
fn server_sent_event() -> Schema {
    let frame = |event: ObjectBuilder, data: String| {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("event", event)
            .property(
                "data",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .content_media_type("application/json")
                    .description(Some(data)),
            )
            .property(
                "id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("`{streamId}:{seq}`")),
            )
            .property(
                "retry",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("The reconnection delay, ms (the first event only).")),
            )
            .required("event")
            .required("data")
            .required("id")
    };
    let mut events = utoipa::openapi::schema::OneOfBuilder::new().description(Some(
        "One event of a stream: an event of the vocabulary, or an application event.",
    ));
    for name in EventName::ALL {
        events = events.item(frame(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([name.as_str()])),
            format!(
                "The payload as JSON, of schema `#/components/schemas/{}`.",
                name.payload_type()
            ),
        ));
    }
    events = events.item(frame(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(APP_NAME_PATTERN))
            .max_length(Some(MAX_APP_NAME)),
        "Any JSON value.".to_owned(),
    ));
    events.into()
}

fn event_stream(status_204: bool) -> Vec<Success> {
    let mut ok = vec![Success::new(200, event_stream_description())
        .content(
            "text/event-stream",
            Content::new(Some(schema_ref("ServerSentEvent"))),
        )
        .header("Cache-Control", "`no-cache`")];
    if status_204 {
        ok.push(Success::new(
            204,
            "The `Last-Event-ID` is the stream's terminal event: nothing follows it.",
        ));
    }
    ok
}

/// `GET {path}`: a stream's events as `text/event-stream`, from the start or resumed. The same
/// route stands under two paths, one with each tag.
fn events_route(
    path: &'static str,
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        method: HttpMethod::Get,
        path,
        operation_id,
        tag,
        summary,
        description: None,
        access: Access::Read,
        params: std::iter::once(id_param())
            .chain(last_event_id_params())
            .collect(),
        body: None,
        ok: event_stream(true),
        errors: codes(&[&[InvalidLastEventId], TOKEN, STREAM]),
    }
}

/// Every route of DESIGN §2 and docs/decisions.md's HTTP API table, plus the page and the
/// operations routes.
fn routes() -> Vec<Route> {
    let read_stream = codes(&[TOKEN, STREAM]);
    vec![
        Route {
            method: HttpMethod::Get,
            path: "/",
            operation_id: "demoPage",
            tag: "demo",
            summary: "The demo page",
            description: None,
            access: Access::Open,
            params: vec![],
            body: None,
            ok: vec![Success::new(200, "The demo page (HTML).")
                .content("text/html", text_content())
                .header("Content-Security-Policy", "The page's policy.")],
            errors: vec![],
        },
        Route {
            method: HttpMethod::Get,
            path: "/assets/{file}",
            operation_id: "demoAsset",
            tag: "demo",
            summary: "A file of the demo page (the built web client)",
            description: None,
            access: Access::Open,
            params: vec![param("file", ParameterIn::Path, true, "`ssekit.js`, `demo.js`, `ssekit.css`, …")],
            body: None,
            ok: vec![Success::new(200, "The file.")
                .content("text/javascript", text_content())
                .content("text/css", text_content())],
            errors: vec![NotFound],
        },
        Route {
            method: HttpMethod::Get,
            path: "/healthz",
            operation_id: "healthz",
            tag: "operations",
            summary: "Liveness",
            description: Some("`503 store_unavailable` (with `Retry-After`) when the native server's store does not answer within 2 s, so a load balancer takes the instance out. The Worker answers 200 (its storage is each stream's Durable Object), even when its auth configuration is unusable.".into()),
            access: Access::Open,
            params: vec![],
            body: None,
            ok: vec![Success::new(200, "The server and its store answer.").content("application/json", json_content::<Health>())],
            errors: vec![StoreUnavailable],
        },
        Route {
            method: HttpMethod::Get,
            path: "/metrics",
            operation_id: "metrics",
            tag: "operations",
            summary: "Prometheus metrics",
            description: Some("Native server only: the Worker answers 404 (Cloudflare's analytics count requests).".into()),
            access: Access::Open,
            params: vec![],
            body: None,
            ok: vec![Success::new(200, "Prometheus text format 0.0.4.").content("text/plain", text_content())],
            errors: vec![NotFound],
        },
        Route {
            method: HttpMethod::Get,
            path: "/openapi.json",
            operation_id: "openapi",
            tag: "operations",
            summary: "This document",
            description: None,
            access: Access::Open,
            params: vec![],
            body: None,
            ok: vec![Success::new(200, "The OpenAPI 3.1 document.")
                .content("application/json", Content::new(Some(Schema::from(ObjectBuilder::new().schema_type(Type::Object)))))],
            errors: vec![],
        },
        Route {
            method: HttpMethod::Post,
            path: "/v1/generations",
            operation_id: "createGeneration",
            tag: "generations",
            summary: "Start a generation",
            description: Some("Runs a pipeline (`demo` by default); other fields of the body are passed to `exec` pipelines untouched. Limited per client address by `--create-rate`.".into()),
            access: Access::Bearer,
            params: vec![],
            body: Some(("application/json", json_content::<GenerationRequest>())),
            ok: vec![Success::new(201, "Started.")
                .content("application/json", json_content::<GenerationCreated>())
                .header("Location", "The snapshot's URL.")],
            errors: codes(&[TOKEN, BODY, &[UnknownPipeline, RateLimited, StoreUnavailable]]),
        },
        Route {
            method: HttpMethod::Get,
            path: "/v1/generate",
            operation_id: "generate",
            tag: "generations",
            summary: "Start a generation and stream it in one response, or resume one",
            description: Some("Without a resume position it starts a generation from the query (the create right and rate); with one it resumes the stream that id names (the subscribe right) and starts nothing.".into()),
            access: Access::Read,
            params: {
                let mut p: Vec<ParameterBuilder> = GenerationRequest::into_params(|| Some(ParameterIn::Query))
                    .into_iter()
                    .map(|param| {
                        let param: utoipa::openapi::path::Parameter = param;
                        // Required only when starting: a resume needs no topic.
                        if param.name == "topic" {
                            ParameterBuilder::from(param).required(Required::False)
                        } else {
                            ParameterBuilder::from(param)
                        }
                    })
                    .collect();
                p.extend(last_event_id_params());
                p
            },
            body: None,
            ok: event_stream(true),
            errors: codes(&[&[InvalidLastEventId, InvalidRequest, UnknownPipeline, RateLimited], TOKEN, STREAM]),
        },
        Route {
            method: HttpMethod::Get,
            path: "/v1/generations/{id}",
            operation_id: "getSnapshot",
            tag: "streams",
            summary: "A stream's snapshot",
            description: Some("The state folded from the vocabulary's events (application events are ignored).".into()),
            access: Access::Read,
            params: vec![id_param()],
            body: None,
            ok: vec![Success::new(200, "The snapshot.").content("application/json", json_content::<GenerationSnapshot>())],
            errors: read_stream.clone(),
        },
        Route {
            method: HttpMethod::Delete,
            path: "/v1/generations/{id}",
            operation_id: "cancelGeneration",
            tag: "generations",
            summary: "Cancel a generation",
            description: Some("Stops the pipeline; the stream ends with the cancel `error`.".into()),
            access: Access::Bearer,
            params: vec![id_param()],
            body: None,
            ok: vec![Success::new(202, "Cancelled.").content("application/json", json_content::<Cancelled>())],
            errors: codes(&[TOKEN, STREAM, &[NotAGeneration, AlreadyFinished]]),
        },
        events_route(
            "/v1/generations/{id}/events",
            "streamEvents",
            "streams",
            "A stream's events (any stream, generation or published)",
        ),
        Route {
            method: HttpMethod::Get,
            path: "/v1/generations/{id}/images/{image}",
            operation_id: "demoImage",
            tag: "generations",
            summary: "An image of a demo generation",
            description: None,
            access: Access::Read,
            params: vec![
                id_param(),
                param("image", ParameterIn::Path, true, "`img-{i}.svg`"),
            ],
            body: None,
            ok: vec![Success::new(200, "The image.").content("image/svg+xml", text_content())],
            errors: read_stream.clone(),
        },
        Route {
            method: HttpMethod::Get,
            path: "/v1/generations/{id}/document",
            operation_id: "getDocument",
            tag: "generations",
            summary: "The document saved at `persist-complete`",
            description: None,
            access: Access::Read,
            params: vec![id_param()],
            body: None,
            ok: vec![Success::new(200, "The document (HTML).").content("text/html", text_content())],
            errors: codes(&[TOKEN, STREAM, &[NotPersisted]]),
        },
        Route {
            method: HttpMethod::Post,
            path: "/v1/streams",
            operation_id: "createStream",
            tag: "publish",
            summary: "Create a stream to publish to",
            description: Some("The body is empty or a JSON object. Limited per client address by `--create-rate`.".into()),
            access: Access::Bearer,
            params: vec![],
            body: Some(("application/json", Content::new(Some(Schema::from(ObjectBuilder::new().schema_type(Type::Object)))))),
            ok: vec![Success::new(201, "Created.").content("application/json", json_content::<StreamCreated>())],
            errors: codes(&[TOKEN, BODY, &[Exists, RateLimited, StoreUnavailable]]),
        },
        Route {
            method: HttpMethod::Post,
            path: "/v1/streams/{id}/events",
            operation_id: "publish",
            tag: "publish",
            summary: "Publish events to a stream",
            description: Some(format!(
                "Each event is validated against the vocabulary, or is an application event \
                 ({APP_NAME_RULE}); a terminal event only last. The events are \
                 stored before this answer, numbered after the stream's last. With an \
                 `Idempotency-Key`, a retry of the same events answers the first answer again \
                 (with `Idempotency-Replayed: true`) and stores nothing."
            )),
            access: Access::Publish,
            params: vec![id_param(), idempotency_key_param()],
            body: Some(("application/json", json_content::<PublishRequest>())),
            ok: vec![Success::new(201, "Stored (or, with `Idempotency-Replayed: true`, stored by an earlier request with the same key).")
                .content("application/json", json_content::<Published>())
                .header("Idempotency-Replayed", "`true` when the events were stored by an earlier request with the same `Idempotency-Key` (nothing was appended now); absent otherwise.")],
            errors: codes(&[&[Unauthorized], TOKEN, BODY, STREAM, &[StreamFinished, InvalidIdempotencyKey, IdempotencyKeyReused]]),
        },
        events_route(
            "/v1/streams/{id}/events",
            "publishedStreamEvents",
            "publish",
            "A stream's events (the same as `/v1/generations/{id}/events`)",
        ),
    ]
}

fn security(access: Access) -> Vec<SecurityRequirement> {
    let none = SecurityRequirement::default();
    let bearer = || SecurityRequirement::new("bearer", Vec::<String>::new());
    match access {
        Access::Open => vec![none],
        Access::Bearer => vec![none, bearer()],
        Access::Read => vec![
            none,
            bearer(),
            SecurityRequirement::new("token", Vec::<String>::new()),
            SecurityRequirement::new("cookie", Vec::<String>::new()),
        ],
        Access::Publish => vec![bearer()],
    }
}

fn operation(route: Route) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .operation_id(Some(route.operation_id))
        .tag(route.tag)
        .summary(Some(route.summary))
        .description(route.description)
        .parameters(Some(route.params.into_iter().map(|p| p.build())))
        .securities(Some(security(route.access)));
    if let Some((content_type, content)) = route.body {
        let required = if route.path == "/v1/streams" {
            Required::False
        } else {
            Required::True
        };
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .content(content_type, content)
                .required(Some(required))
                .build(),
        ));
    }
    for ok in route.ok {
        let mut res = ResponseBuilder::new().description(ok.description);
        for (content_type, content) in ok.content {
            res = res.content(content_type, content);
        }
        for (name, header) in ok.headers {
            res = res.header(name, header);
        }
        op = op.response(ok.status.to_string(), res.build());
    }
    // Errors grouped by status, each code named.
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    let worker_auth: &[ErrorCode] = if route.path == "/healthz" {
        &[]
    } else {
        &[AuthConfigInvalid]
    };
    for code in codes(&[EVERY_ROUTE, &route.errors, worker_auth]) {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(code);
    }
    for (status, codes) in by_status {
        let names: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        let mut res = ResponseBuilder::new()
            .description(format!("Error: {}.", names.join(", ")))
            .content("application/json", json_content::<ErrorBody>());
        if codes
            .iter()
            .any(|c| matches!(c, RateLimited | TooManyConnections | StoreUnavailable))
        {
            res = res.header("Retry-After", retry_after());
        }
        if status == 401 {
            res = res.header("WWW-Authenticate", www_authenticate());
        }
        if codes.contains(&Forbidden) {
            res = res.header("WWW-Authenticate", insufficient_scope(route.access));
        }
        op = op.response(status.to_string(), res.build());
    }
    op.build()
}

/// Collects `T`'s schema and the schemas it refers to.
fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// The document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in routes() {
        let path = route.path;
        let method = route.method.clone();
        paths = paths.path(path, PathItem::new(method, operation(route)));
    }
    let mut schemas = Vec::new();
    add::<ErrorBody>(&mut schemas);
    add::<GenerationRequest>(&mut schemas);
    add::<PublishRequest>(&mut schemas);
    add::<GenerationCreated>(&mut schemas);
    add::<StreamCreated>(&mut schemas);
    add::<Published>(&mut schemas);
    add::<Cancelled>(&mut schemas);
    add::<GenerationSnapshot>(&mut schemas);
    add::<Health>(&mut schemas);
    // Built from the wire names: utoipa's derive cannot see the renames the vocabulary's macro
    // generates, and would list the Rust variant names.
    let names = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("The name of an event of the vocabulary."))
        .enum_values(Some(EventName::ALL.iter().map(|name| name.as_str())));
    schemas.push(("EventName".to_owned(), Schema::from(names).into()));
    for (name, schema) in EventName::payload_schemas() {
        schemas.push((name.to_owned(), schema));
    }
    schemas.push(("ServerSentEvent".to_owned(), server_sent_event().into()));
    let mut seen = std::collections::HashSet::new();
    schemas.retain(|(name, _)| seen.insert(name.clone()));
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A JWT as `?token=` (GET routes; EventSource cannot set headers).",
            ))),
        )
        .security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "ssekit_token",
                "A JWT in the `ssekit_token` cookie (GET routes; it may only subscribe).",
            ))),
        )
        .build();
    let description = "ssekit's HTTP API: long-running work streamed as Server-Sent Events, \
        resumable by `Last-Event-ID`. Auth is off unless configured: then a JWT's `ssekit` claim \
        grants create, subscribe, publish and cancel, read from `Authorization: Bearer` (any \
        route), `?token=` or the `ssekit_token` cookie (GET routes). Every error body is \
        `ErrorBody`; a known path with another method is `405 method_not_allowed`, an unknown \
        path `404 not_found`. On the Worker, every route but `/healthz` answers \
        `500 auth_config_invalid` while its auth configuration cannot be used.";
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("ssekit")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(description))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// docs/openapi.json is what the code generates; `SSEKIT_WRITE_OPENAPI=1` rewrites it.
    #[test]
    fn openapi_document_in_docs_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let generated = pretty_json();
        if std::env::var_os("SSEKIT_WRITE_OPENAPI").is_some() {
            std::fs::write(path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is stale: regenerate it with \
             `SSEKIT_WRITE_OPENAPI=1 cargo test -p ssekit-api openapi` and commit it"
        );
    }

    #[test]
    fn openapi_lists_every_error_code_and_the_vocabulary() {
        let doc: serde_json::Value = serde_json::from_str(json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
        let names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, &json!(names));
        let sse = &doc["paths"]["/v1/generations/{id}/events"]["get"]["responses"]["200"];
        let description = sse["description"].as_str().unwrap();
        for name in EventName::ALL {
            assert!(description.contains(&format!("`{}`", name.as_str())));
            assert!(doc["components"]["schemas"][name.payload_type()].is_object());
        }
        assert!(sse["content"]["text/event-stream"].is_object());
        // Every status an operation lists has a body schema or none by design (204, SSE text).
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, res) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            res["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                    // A refusing token's challenge: on a 401 always, on a 403 for a token
                    // without the right.
                    if status == "401" || status == "403" {
                        let challenge = res["headers"]["WWW-Authenticate"]["description"]
                            .as_str()
                            .unwrap_or_default();
                        let wanted = if status == "401" {
                            "invalid_token"
                        } else {
                            "insufficient_scope"
                        };
                        assert!(challenge.contains(wanted), "{method} {path} {status}");
                    }
                }
            }
        }
    }
}
