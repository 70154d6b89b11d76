//! Generations: create, stream, the one-shot endpoint, snapshot, cancel, images, document.

use axum::extract::{RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use ssekit_api::auth::Action;
use ssekit_api::response::{Cancelled, GenerationCreated, GenerationSnapshot};
use ssekit_api::stream_id;
use ssekit_events::{Event, EventId, Snapshot, STAGE_CANCELLED};

use crate::access::{self, Caller};
use crate::error::ApiError;
use crate::extract::{parse_json, read_body, KeepAlive, LastEventId, PathParams};
use crate::pipeline::{self, GenerationSpec};
use crate::store::{StoreError, StreamMeta};
use crate::{sse, AppState};

/// `POST /v1/generations`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    caller.may_create(&state)?;
    let body = read_body(req, &state.config).await?;
    let request: Value = parse_json(&body)?;
    let spec = GenerationSpec::from_request(request, &pipeline::pipelines(&state.config))?;
    let id = pipeline::start(&state, spec).await?;
    let mut answer = GenerationCreated::new(&id);
    access::add_subscribe_token(&state, &mut answer, &id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/generations/{id}"))],
        Json(answer),
    )
        .into_response())
}

/// `GET /v1/generate?topic=…`: creates a generation and streams it in the same response — or,
/// with a `Last-Event-ID`, resumes the generation that id names and starts nothing.
pub async fn one_shot(
    State(state): State<AppState>,
    KeepAlive(keep_alive): KeepAlive,
    caller: Caller,
    LastEventId(last): LastEventId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query.as_deref().unwrap_or("");
    let id = one_shot_stream(&state, &caller, last.as_ref(), query).await?;
    sse::subscribe(&state, &id, last, keep_alive).await
}

/// The stream the one-shot endpoint serves: the one `last` names, or a new generation made
/// from the query. Resuming needs the right to subscribe to that stream; creating, the right
/// to create and room in the caller's rate.
pub async fn one_shot_stream(
    state: &AppState,
    caller: &Caller,
    last: Option<&EventId>,
    query: &str,
) -> Result<String, ApiError> {
    if let Some(last) = last {
        caller.may(state, Action::Subscribe(last.stream()))?;
        return Ok(last.stream().to_owned());
    }
    caller.may_create(state)?;
    let spec = GenerationSpec::from_query(query, &pipeline::pipelines(&state.config))?;
    pipeline::start(state, spec).await
}

/// `GET /v1/generations/{id}/events` (and `GET /v1/streams/{id}/events`)
pub async fn events(
    State(state): State<AppState>,
    KeepAlive(keep_alive): KeepAlive,
    caller: Caller,
    path: PathParams,
    LastEventId(last): LastEventId,
) -> Result<Response, ApiError> {
    let id = path.first();
    let id = stream_id(&id)?;
    caller.may(&state, Action::Subscribe(id))?;
    sse::subscribe(&state, id, last, keep_alive).await
}

/// The stream `path` names, once the caller may read it: its metadata and its events folded
/// into a snapshot — what the snapshot and the document are made of.
async fn folded(
    state: &AppState,
    caller: &Caller,
    path: PathParams,
) -> Result<(StreamMeta, Snapshot), ApiError> {
    let id = path.first();
    caller.may(state, Action::Subscribe(stream_id(&id)?))?;
    let meta = state.store.meta(&id).await?;
    let mut snapshot = Snapshot::default();
    let mut after = 0;
    loop {
        let page = state
            .store
            .read(&meta.id, after, sse::PAGE, sse::PAGE_BYTES)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in &page {
            snapshot.apply(&stored.event()?);
        }
    }
    Ok((meta, snapshot))
}

/// `GET /v1/generations/{id}`
pub async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
    path: PathParams,
) -> Result<Response, ApiError> {
    let (meta, snap) = folded(&state, &caller, path).await?;
    Ok(Json(GenerationSnapshot::new(&meta, &snap)).into_response())
}

/// `DELETE /v1/generations/{id}`: stops the pipeline; the stream ends with the cancel `error`.
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    path: PathParams,
) -> Result<Response, ApiError> {
    let id = path.first();
    caller.may(&state, Action::Cancel(stream_id(&id)?))?;
    let meta = state.store.meta(&id).await?;
    meta.check_cancellable()?;
    let cancelled = Event::fatal(STAGE_CANCELLED, "the generation was cancelled");
    match state.store.append(&id, vec![cancelled]).await {
        Ok(_) => {}
        Err(StoreError::Finished) => return Err(ApiError::already_finished()),
        Err(e) => return Err(e.into()),
    }
    state.metrics.events_appended.inc();
    // The terminal event is stored first, so anything the pipeline still sends is refused.
    state.runner.cancel(&id);
    Ok((StatusCode::ACCEPTED, Json(Cancelled::new(&id))).into_response())
}

/// `GET /v1/generations/{id}/images/{image}`: the demo pipeline's images.
pub async fn image(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(params): PathParams,
) -> Result<Response, ApiError> {
    let [id, image] = <[String; 2]>::try_from(params).map_err(|_| ApiError::unknown_stream())?;
    caller.may(&state, Action::Subscribe(stream_id(&id)?))?;
    let meta = state.store.meta(&id).await?;
    let svg = ssekit_api::image_svg(&meta, &image)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        svg,
    )
        .into_response())
}

/// `GET /v1/generations/{id}/document`: the document saved at `persist-complete`.
pub async fn document(
    State(state): State<AppState>,
    caller: Caller,
    path: PathParams,
) -> Result<Response, ApiError> {
    let (meta, snap) = folded(&state, &caller, path).await?;
    let html = ssekit_api::document_html(&meta, &snap)?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
