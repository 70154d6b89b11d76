//! The HTTP API of DESIGN §2.

mod assets;
pub(crate) mod generations;
mod ops;
mod streams;

pub(crate) use streams::PublishTokens;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::AppState;

/// Every route, with CORS and JSON errors for unknown paths and methods.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config.cors_origins);
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{file}", get(assets::asset))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/generations", post(generations::create))
        .route("/v1/generate", get(generations::one_shot))
        .route(
            "/v1/generations/{id}",
            get(generations::snapshot).delete(generations::cancel),
        )
        .route("/v1/generations/{id}/events", get(generations::events))
        .route(
            "/v1/generations/{id}/images/{image}",
            get(generations::image),
        )
        .route("/v1/generations/{id}/document", get(generations::document))
        .route("/v1/streams", post(streams::create))
        .route(
            "/v1/streams/{id}/events",
            post(streams::publish).get(generations::events),
        )
        .fallback(|| async { ApiError::unknown_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(cors)
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::CACHE_CONTROL,
            HeaderName::from_static("last-event-id"),
        ])
        .max_age(std::time::Duration::from_secs(86400))
}
