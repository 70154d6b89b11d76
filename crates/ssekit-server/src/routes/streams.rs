//! The publish API: any backend creates a stream and appends events to it with a bearer token.

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use ssekit_events::validate_stream_id;

use crate::error::ApiError;
use crate::extract::{parse_json, read_body};
use crate::pipeline::new_id;
use crate::store::{now_ms, StreamKind, StreamMeta};
use crate::AppState;

/// `POST /v1/streams` → `201 {id, publishToken, eventsUrl, publishUrl}`
pub async fn create(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let body = read_body(req, state.config.max_body).await?;
    if !body.is_empty() {
        let v: Value = parse_json(&body)?;
        if !v.is_object() {
            return Err(ApiError::invalid("the body must be a JSON object"));
        }
    }
    let id = new_id("str_");
    let token = new_id("pub_");
    let meta = StreamMeta::new(
        id.clone(),
        StreamKind::Published,
        json!({ "publishToken": token }),
        now_ms(),
    );
    state.store.create(meta).await?;
    let body = json!({
        "id": id,
        "publishToken": token,
        "eventsUrl": format!("/v1/generations/{id}/events"),
        "publishUrl": format!("/v1/streams/{id}/events"),
        "snapshotUrl": format!("/v1/generations/{id}"),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /v1/streams/{id}/events` with `Authorization: Bearer TOKEN`; body `{event, data}` or
/// `{events: [{event, data}, …]}` → `201 {ids, lastEventId}`.
pub async fn publish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    validate_stream_id(&id).map_err(|_| ApiError::not_found("no stream with that id"))?;
    let meta = state.store.meta(&id).await?;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = meta.info.get("publishToken").and_then(Value::as_str);
    ssekit_api::check_publish_token(authorization, token.unwrap_or(""))?;
    let body = read_body(req, state.config.max_body).await?;
    let events = ssekit_api::publish_events(&body)?;
    let stored = state.store.append(&id, events).await?;
    state.metrics.events_appended.inc_by(stored.len() as u64);
    let ids: Vec<String> = stored.iter().map(|e| format!("{id}:{}", e.seq)).collect();
    let last = ids.last().cloned();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "ids": ids, "lastEventId": last })),
    )
        .into_response())
}
