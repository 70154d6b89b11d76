//! The publish API: any backend creates a stream and appends events to it with a bearer token.

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use ssekit_events::{validate_stream_id, Event};

use crate::error::ApiError;
use crate::extract::{parse_json, read_body};
use crate::pipeline::new_id;
use crate::store::{now_ms, StreamKind, StreamMeta, MAX_BATCH};
use crate::{sanitize, AppState};

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

/// Compares without stopping at the first difference, so timing tells nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One event as a publisher sends it.
fn event_of(v: Value) -> Result<Event, ApiError> {
    let Value::Object(mut obj) = v else {
        return Err(ApiError::invalid(
            "an event is an object {\"event\": NAME, \"data\": {…}}",
        ));
    };
    let name = match obj.remove("event") {
        Some(Value::String(s)) => s,
        _ => return Err(ApiError::invalid("an event needs a string field \"event\"")),
    };
    let data = obj.remove("data").unwrap_or(Value::Null);
    let mut event = Event::from_value(&name, data).map_err(|e| ApiError::invalid(e.to_string()))?;
    sanitize::sanitize(&mut event);
    Ok(event)
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
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "publishing needs Authorization: Bearer <publishToken>",
            )
        })?;
    let token = meta.info.get("publishToken").and_then(Value::as_str);
    if !token.is_some_and(|t| same(t.as_bytes(), presented.as_bytes())) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "that publish token is not this stream's",
        ));
    }
    let body = read_body(req, state.config.max_body).await?;
    let mut v: Value = parse_json(&body)?;
    let events = match v.get_mut("events").map(Value::take) {
        Some(Value::Array(list)) => list
            .into_iter()
            .map(event_of)
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(ApiError::invalid("\"events\" must be an array")),
        None => vec![event_of(v)?],
    };
    if events.is_empty() {
        return Err(ApiError::invalid("no events to publish"));
    }
    if events.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "at most {MAX_BATCH} events per request"
        )));
    }
    if events.iter().rev().skip(1).any(Event::is_terminal) {
        return Err(ApiError::invalid(
            "a terminal event must be the last of a batch",
        ));
    }
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
