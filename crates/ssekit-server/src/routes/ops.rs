//! Liveness, metrics and the OpenAPI document.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use ssekit_api::response::Health;
use ssekit_api::ErrorCode;

use crate::error::ApiError;

use crate::AppState;

/// How long `/healthz` waits for the store's answer.
const HEALTH_DEADLINE: Duration = Duration::from_secs(2);

/// `200 {"status":"ok"}` when the store answers within [`HEALTH_DEADLINE`], else
/// `503 store_unavailable` (with `Retry-After`), so a load balancer takes the instance out.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let why = match tokio::time::timeout(HEALTH_DEADLINE, state.store.health()).await {
        Ok(Ok(())) => return Ok(Json(Health::OK)),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} s", HEALTH_DEADLINE.as_secs()),
    };
    tracing::warn!(error = %why, "health check: the store is unavailable");
    Err(ApiError::new(
        ErrorCode::StoreUnavailable,
        "the event store does not answer; try again",
    )
    .retry_after(1))
}

/// The OpenAPI document (open, like `/healthz`).
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        ssekit_api::openapi::json(),
    )
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use axum::response::IntoResponse;

    use super::*;
    use crate::store::faulty::Faulty;

    #[tokio::test]
    async fn healthz_says_503_store_unavailable_when_the_store_does_not_answer() {
        let (state, store) = Faulty::state();
        let ok = healthz(State(state.clone())).await.into_response();
        assert_eq!(ok.status(), 200);
        store.down.store(true, Ordering::SeqCst);
        let down = healthz(State(state)).await.into_response();
        assert_eq!(down.status(), 503);
        assert_eq!(down.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(down.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "store_unavailable");
    }
}
