//! The publish API: any backend creates a stream and appends events to it with a bearer token.

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::ApiError;
use crate::extract::read_body;
use crate::pipeline::new_id;
use crate::store::now_ms;
use crate::AppState;

/// `POST /v1/streams` → `201 {id, publishToken, eventsUrl, publishUrl}`
pub async fn create(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let body = read_body(req, state.config.max_body).await?;
    let (meta, answer) =
        ssekit_api::create_stream(&body, new_id("str_"), new_id("pub_"), now_ms())?;
    state.store.create(meta).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v1/streams/{id}/events` with `Authorization: Bearer TOKEN`; body `{event, data}` or
/// `{events: [{event, data}, …]}` → `201 {ids, lastEventId}`.
pub async fn publish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let meta = state.store.meta(ssekit_api::stream_id(&id)?).await?;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    ssekit_api::check_publish_token(authorization, ssekit_api::publish_token(&meta))?;
    let body = read_body(req, state.config.max_body).await?;
    let events = ssekit_api::publish_events(&body)?;
    let stored = state.store.append(&id, events).await?;
    state.metrics.events_appended.inc_by(stored.len() as u64);
    let answer = ssekit_api::published(&id, stored.iter().map(|e| e.seq));
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
