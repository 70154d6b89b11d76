//! The route table: every route of the HTTP API (DESIGN §2), declared once. The native server's
//! axum router is built from [`Endpoint::ALL`], its fast path asks [`Route::recognize`] which
//! requests are subscriptions, and the Worker dispatches on [`Route`]; so a route added here is
//! a compile error in each front end until it answers it.
//!
//! ```
//! use http::Method;
//! use ssekit_api::routes::{Endpoint, Route};
//!
//! let route = Route::recognize(&Method::GET, "/v1/generations/gen%5Fa/events").unwrap();
//! assert_eq!(route, Route::GenerationEvents { id: "gen_a".into() });
//! assert!(route.endpoint().is_stream());
//! assert_eq!(Route::recognize(&Method::PUT, "/healthz").unwrap_err().status(), 405);
//! assert_eq!(Route::recognize(&Method::GET, "/nope").unwrap_err().status(), 404);
//! assert_eq!(Endpoint::Publish.path(), "/v1/streams/{id}/events");
//! ```

use http::Method;

use crate::error::ApiError;
use crate::request::path_segment;

/// A route of the API without its parameters: one row of the table, with its method and path
/// template (`{name}` is one path segment, as axum and OpenAPI write it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /`: the demo page.
    Index,
    /// `GET /assets/{file}`: the demo page's files.
    Asset,
    /// `GET /healthz`.
    Health,
    /// `GET /metrics`: Prometheus text (the native server only; the Worker answers 404).
    Metrics,
    /// `GET /openapi.json`: the OpenAPI document (`crate::openapi`).
    OpenApi,
    /// `POST /v1/generations`.
    CreateGeneration,
    /// `GET /v1/generate?…`: create (or resume) and stream in one response.
    Generate,
    /// `GET /v1/generations/{id}`: the snapshot.
    Snapshot,
    /// `DELETE /v1/generations/{id}`.
    Cancel,
    /// `GET /v1/generations/{id}/events`.
    GenerationEvents,
    /// `GET /v1/generations/{id}/images/{image}`.
    Image,
    /// `GET /v1/generations/{id}/document`.
    Document,
    /// `POST /v1/streams`.
    CreateStream,
    /// `GET /v1/streams/{id}/events`.
    StreamEvents,
    /// `POST /v1/streams/{id}/events`.
    Publish,
}

impl Endpoint {
    /// Every route, in the order the API documents them.
    pub const ALL: &'static [Endpoint] = &[
        Endpoint::Index,
        Endpoint::Asset,
        Endpoint::Health,
        Endpoint::Metrics,
        Endpoint::OpenApi,
        Endpoint::CreateGeneration,
        Endpoint::Generate,
        Endpoint::Snapshot,
        Endpoint::Cancel,
        Endpoint::GenerationEvents,
        Endpoint::Image,
        Endpoint::Document,
        Endpoint::CreateStream,
        Endpoint::StreamEvents,
        Endpoint::Publish,
    ];

    /// Its method. A `GET` route answers `HEAD` too, as axum and the Worker always have.
    pub fn method(self) -> Method {
        match self {
            Endpoint::CreateGeneration | Endpoint::CreateStream | Endpoint::Publish => Method::POST,
            Endpoint::Cancel => Method::DELETE,
            _ => Method::GET,
        }
    }

    /// Its path template.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Index => "/",
            Endpoint::Asset => "/assets/{file}",
            Endpoint::Health => "/healthz",
            Endpoint::Metrics => "/metrics",
            Endpoint::OpenApi => "/openapi.json",
            Endpoint::CreateGeneration => "/v1/generations",
            Endpoint::Generate => "/v1/generate",
            Endpoint::Snapshot | Endpoint::Cancel => "/v1/generations/{id}",
            Endpoint::GenerationEvents => "/v1/generations/{id}/events",
            Endpoint::Image => "/v1/generations/{id}/images/{image}",
            Endpoint::Document => "/v1/generations/{id}/document",
            Endpoint::CreateStream => "/v1/streams",
            Endpoint::StreamEvents | Endpoint::Publish => "/v1/streams/{id}/events",
        }
    }

    /// Whether it answers an event stream (`text/event-stream`): the native server's fast path
    /// serves exactly these (a `GET` from an HTTP/1.1 client) straight from the socket.
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Endpoint::Generate | Endpoint::GenerationEvents | Endpoint::StreamEvents
        )
    }

    /// Whether `path` has this endpoint's shape: its parameters, still percent-encoded.
    fn matches(self, path: &str) -> Option<Vec<&str>> {
        // One leading slash, as axum matches it: `//healthz` is no route.
        let path = path.strip_prefix('/')?;
        let mut params = Vec::new();
        let mut segments = path.split('/');
        for part in self.path()[1..].split('/') {
            let segment = segments.next()?;
            if part.starts_with('{') {
                // A parameter is one segment, never empty (axum's matcher agrees).
                if segment.is_empty() {
                    return None;
                }
                params.push(segment);
            } else if part != segment {
                return None;
            }
        }
        segments.next().is_none().then_some(params)
    }
}

/// A recognized request: its endpoint and path parameters, each percent-decoded once
/// (`gen%5Fa` is `gen_a`). Checking that an id can be one (`crate::stream_id`) is the route's
/// own business, after its other request-only checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /`.
    Index,
    /// `GET /assets/{file}`.
    Asset {
        /// The file's name.
        file: String,
    },
    /// `GET /healthz`.
    Health,
    /// `GET /metrics`.
    Metrics,
    /// `GET /openapi.json`.
    OpenApi,
    /// `POST /v1/generations`.
    CreateGeneration,
    /// `GET /v1/generate`.
    Generate,
    /// `GET /v1/generations/{id}`.
    Snapshot {
        /// The stream id.
        id: String,
    },
    /// `DELETE /v1/generations/{id}`.
    Cancel {
        /// The stream id.
        id: String,
    },
    /// `GET /v1/generations/{id}/events`.
    GenerationEvents {
        /// The stream id.
        id: String,
    },
    /// `GET /v1/generations/{id}/images/{image}`.
    Image {
        /// The stream id.
        id: String,
        /// The image's name (`{imageId}.svg`).
        image: String,
    },
    /// `GET /v1/generations/{id}/document`.
    Document {
        /// The stream id.
        id: String,
    },
    /// `POST /v1/streams`.
    CreateStream,
    /// `GET /v1/streams/{id}/events`.
    StreamEvents {
        /// The stream id.
        id: String,
    },
    /// `POST /v1/streams/{id}/events`.
    Publish {
        /// The stream id.
        id: String,
    },
}

impl Route {
    /// The route a request's method and path (without the query) name: `404 not_found` for a
    /// path no route has, `405 method_not_allowed` for a route's path with another method, and
    /// `404 not_found` for a parameter that does not percent-decode to UTF-8 (it names nothing).
    pub fn recognize(method: &Method, path: &str) -> Result<Route, ApiError> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let mut known_path = false;
        for &endpoint in Endpoint::ALL {
            let Some(raw) = endpoint.matches(path) else {
                continue;
            };
            if endpoint.method() != method {
                known_path = true;
                continue;
            }
            let mut params = Vec::with_capacity(raw.len());
            for segment in raw {
                params.push(path_segment(segment).ok_or_else(|| match endpoint {
                    Endpoint::Asset => ApiError::unknown_asset(),
                    _ => ApiError::unknown_stream(),
                })?);
            }
            return Ok(Route::with_params(endpoint, params));
        }
        Err(if known_path {
            ApiError::method_not_allowed()
        } else {
            ApiError::unknown_route()
        })
    }

    fn with_params(endpoint: Endpoint, params: Vec<String>) -> Route {
        let mut params = params.into_iter();
        let mut next = || params.next().unwrap_or_default();
        match endpoint {
            Endpoint::Index => Route::Index,
            Endpoint::Asset => Route::Asset { file: next() },
            Endpoint::Health => Route::Health,
            Endpoint::Metrics => Route::Metrics,
            Endpoint::OpenApi => Route::OpenApi,
            Endpoint::CreateGeneration => Route::CreateGeneration,
            Endpoint::Generate => Route::Generate,
            Endpoint::Snapshot => Route::Snapshot { id: next() },
            Endpoint::Cancel => Route::Cancel { id: next() },
            Endpoint::GenerationEvents => Route::GenerationEvents { id: next() },
            Endpoint::Image => Route::Image {
                id: next(),
                image: next(),
            },
            Endpoint::Document => Route::Document { id: next() },
            Endpoint::CreateStream => Route::CreateStream,
            Endpoint::StreamEvents => Route::StreamEvents { id: next() },
            Endpoint::Publish => Route::Publish { id: next() },
        }
    }

    /// Its row of the table.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            Route::Index => Endpoint::Index,
            Route::Asset { .. } => Endpoint::Asset,
            Route::Health => Endpoint::Health,
            Route::Metrics => Endpoint::Metrics,
            Route::OpenApi => Endpoint::OpenApi,
            Route::CreateGeneration => Endpoint::CreateGeneration,
            Route::Generate => Endpoint::Generate,
            Route::Snapshot { .. } => Endpoint::Snapshot,
            Route::Cancel { .. } => Endpoint::Cancel,
            Route::GenerationEvents { .. } => Endpoint::GenerationEvents,
            Route::Image { .. } => Endpoint::Image,
            Route::Document { .. } => Endpoint::Document,
            Route::CreateStream => Endpoint::CreateStream,
            Route::StreamEvents { .. } => Endpoint::StreamEvents,
            Route::Publish { .. } => Endpoint::Publish,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// A concrete path for a template: each parameter replaced by `x`.
    fn sample(template: &str) -> String {
        template
            .split('/')
            .map(|part| if part.starts_with('{') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn every_row_is_recognized_as_itself_and_head_as_get() {
        for &endpoint in Endpoint::ALL {
            let path = sample(endpoint.path());
            let route = Route::recognize(&endpoint.method(), &path).unwrap();
            assert_eq!(route.endpoint(), endpoint, "{path}");
            if endpoint.method() == Method::GET {
                let head = Route::recognize(&Method::HEAD, &path).unwrap();
                assert_eq!(head.endpoint(), endpoint);
            }
            let other = Route::recognize(&Method::PATCH, &path).unwrap_err();
            assert_eq!(
                (other.status().as_u16(), other.code()),
                (405, ErrorCode::MethodNotAllowed)
            );
        }
    }

    #[test]
    fn a_path_is_declared_once_per_method() {
        for (i, a) in Endpoint::ALL.iter().enumerate() {
            for b in &Endpoint::ALL[i + 1..] {
                assert!(
                    (a.method(), a.path()) != (b.method(), b.path()),
                    "{a:?} and {b:?}"
                );
            }
        }
    }

    #[test]
    fn parameters_are_decoded_once() {
        let r = Route::recognize(&Method::GET, "/v1/generations/gen%5Fa/images/b%2525.svg");
        assert_eq!(
            r.unwrap(),
            Route::Image {
                id: "gen_a".into(),
                image: "b%25.svg".into()
            }
        );
        let e = Route::recognize(&Method::GET, "/v1/streams/%ff/events").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (404, ErrorCode::NotFound));
        let e = Route::recognize(&Method::GET, "/assets/%ff").unwrap_err();
        assert_eq!(e.status(), 404);
        // A slash inside a parameter is still one segment.
        assert_eq!(
            Route::recognize(&Method::GET, "/v1/generations/a%2Fb").unwrap(),
            Route::Snapshot { id: "a/b".into() }
        );
    }

    #[test]
    fn unknown_shapes_are_not_found() {
        for path in [
            "",
            "//healthz",
            "/healthz/",
            "/v1/generations//events",
            "/v1/generations/a/b/events",
            "/v1/generations/a/images",
            "/v1/%67enerate",
            "/v1/streams/a/events/more",
            "/openapi",
            "/openapi.json/",
        ] {
            let e = Route::recognize(&Method::GET, path).unwrap_err();
            assert_eq!(
                (e.status().as_u16(), e.code()),
                (404, ErrorCode::NotFound),
                "{path:?}"
            );
        }
        let e = Route::recognize(&Method::OPTIONS, "/v1/streams").unwrap_err();
        assert_eq!(e.status(), 405);
    }

    /// The OpenAPI document describes exactly the table's rows.
    #[test]
    fn the_openapi_document_lists_the_table() {
        let doc: serde_json::Value = serde_json::from_str(crate::openapi::json()).unwrap();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "delete", "put", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        let mut table: Vec<(String, String)> = Endpoint::ALL
            .iter()
            .map(|e| (e.method().to_string(), e.path().to_owned()))
            .collect();
        documented.sort();
        table.sort();
        assert_eq!(documented, table);
    }
}
