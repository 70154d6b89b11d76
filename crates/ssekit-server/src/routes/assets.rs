//! The demo page and the built web client, embedded in the binary so `cargo run` needs no npm.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ssekit_demo::page;

use crate::error::ApiError;
use crate::extract::PathParams;
use crate::AppState;

/// The demo page, with the API origins it may follow besides this one.
pub async fn index(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, page::CSP),
        ],
        page::index(&state.config.demo_api_origins).into_owned(),
    )
}

pub async fn asset(path: Result<PathParams, ApiError>) -> Result<Response, ApiError> {
    let file = path.map_err(|_| ApiError::unknown_asset())?.first();
    let (content_type, body) = page::asset(&file).ok_or_else(ApiError::unknown_asset)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}
