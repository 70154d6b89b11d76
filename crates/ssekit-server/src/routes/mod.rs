//! The HTTP API of DESIGN §2.

mod assets;
pub(crate) mod generations;
mod ops;
mod streams;

pub(crate) use streams::PublishTokens;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use ssekit_api::routes::Endpoint;

use crate::error::ApiError;
use crate::AppState;

/// Every route of the table (`ssekit_api::routes`), with CORS and JSON errors for unknown paths
/// and methods.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for &endpoint in Endpoint::ALL {
        // A path's methods are merged by axum; a GET route answers HEAD too.
        let filter = MethodFilter::try_from(endpoint.method()).expect("a route's method");
        router = router.route(endpoint.path(), handler(endpoint, filter));
    }
    router
        .fallback(|| async { ApiError::unknown_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // Outermost, so it also wraps the fallbacks and answers preflights for any path.
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .with_state(state)
}

/// The handler of each row of the table: adding a row fails to compile until it has one.
fn handler(endpoint: Endpoint, filter: MethodFilter) -> MethodRouter<AppState> {
    match endpoint {
        Endpoint::Index => on(filter, assets::index),
        Endpoint::Asset => on(filter, assets::asset),
        Endpoint::Health => on(filter, ops::healthz),
        Endpoint::Metrics => on(filter, ops::metrics),
        Endpoint::OpenApi => on(filter, ops::openapi),
        Endpoint::CreateGeneration => on(filter, generations::create),
        Endpoint::Generate => on(filter, generations::one_shot),
        Endpoint::Snapshot => on(filter, generations::snapshot),
        Endpoint::Cancel => on(filter, generations::cancel),
        Endpoint::GenerationEvents | Endpoint::StreamEvents => on(filter, generations::events),
        Endpoint::Image => on(filter, generations::image),
        Endpoint::Document => on(filter, generations::document),
        Endpoint::CreateStream => on(filter, streams::create),
        Endpoint::Publish => on(filter, streams::publish),
    }
}

/// The shared CORS policy (`ssekit_api::cors`) on every answer hyper gives: a preflight is
/// answered here, before any route; anything else gets the headers added to its answer. The
/// fast path adds the same headers to the subscriptions it serves.
async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).map(|o| o.as_bytes().to_vec());
    let preflight = ssekit_api::cors::is_preflight(
        req.method(),
        headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD),
    );
    let mut res = if preflight {
        StatusCode::OK.into_response()
    } else {
        next.run(req).await
    };
    let cors = ssekit_api::cors::headers(&state.config.cors_origins, origin.as_deref(), preflight);
    for (name, value) in cors {
        if let Ok(value) = HeaderValue::try_from(value) {
            res.headers_mut().insert(name, value);
        }
    }
    res
}
