//! The demo page and the built web client, embedded in the binary so `cargo run` needs no npm.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const INDEX: &str = include_str!("../../../../web/dist/index.html");

/// The files of `web/dist/`, by name, with their content types.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "ssekit.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/dist/ssekit.js"),
    ),
    (
        "demo.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/dist/demo.js"),
    ),
    (
        "ssekit.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../../web/dist/ssekit.css"),
    ),
];

pub async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX)
}

pub async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::not_found("no such asset"))?;
    Ok((
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        *body,
    )
        .into_response())
}
