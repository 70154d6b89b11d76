//! Typed API errors: one catalogue of codes ([`ErrorCode`]), each with its one status, and the
//! error ([`ApiError`]) a route answers with: a code, a message for people, maybe `Retry-After`,
//! and the `WWW-Authenticate` challenge of a `401`, or of a `403` for a token without the right
//! ([`ApiError::headers`]).

use http::StatusCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Declares the catalogue once: each code's variant, wire name and status.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $status:ident; )*) => {
        /// Every error code the server, its fast path and the Worker answer, serialized as its
        /// snake_case name. Each code has exactly one status; docs/decisions.md's error table
        /// lists the same pairs (a unit test compares them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[ts(export)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of the catalogue (by status).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code's name on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// The one status this code is answered with.
            ///
            /// ```
            /// use ssekit_api::error::ErrorCode;
            /// assert_eq!(ErrorCode::RateLimited.status(), 429);
            /// assert_eq!(ErrorCode::RateLimited.as_str(), "rate_limited");
            /// assert_eq!(serde_json::to_string(&ErrorCode::NotAGeneration).unwrap(), r#""not_a_generation""#);
            /// ```
            pub const fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
        }
    };
}

catalogue! {
    /// A malformed request head (the connection then closes).
    BadRequest = "bad_request", BAD_REQUEST;
    /// A body that is not JSON.
    InvalidJson = "invalid_json", BAD_REQUEST;
    /// A malformed resume position, several of them, one of another stream or ahead of it.
    InvalidLastEventId = "invalid_last_event_id", BAD_REQUEST;
    /// An `Idempotency-Key` that is not 1–255 bytes of visible ASCII, or sent twice.
    InvalidIdempotencyKey = "invalid_idempotency_key", BAD_REQUEST;
    /// Auth off: publishing without a bearer token.
    Unauthorized = "unauthorized", UNAUTHORIZED;
    /// Auth on: a route that needs a token got none.
    TokenMissing = "token_missing", UNAUTHORIZED;
    /// Auth on: a token that does not verify.
    TokenInvalid = "token_invalid", UNAUTHORIZED;
    /// Auth on: a token past its `exp`.
    TokenExpired = "token_expired", UNAUTHORIZED;
    /// A valid token without the right (auth off: another stream's publish token).
    Forbidden = "forbidden", FORBIDDEN;
    /// No such route, stream or asset.
    NotFound = "not_found", NOT_FOUND;
    /// The document before `persist-complete`.
    NotPersisted = "not_persisted", NOT_FOUND;
    /// A known route with another method.
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED;
    /// A head or body that did not arrive in time.
    RequestTimeout = "request_timeout", REQUEST_TIMEOUT;
    /// Creating a stream whose id is taken.
    Exists = "exists", CONFLICT;
    /// Cancelling a published stream.
    NotAGeneration = "not_a_generation", CONFLICT;
    /// Cancelling a stream that has ended.
    AlreadyFinished = "already_finished", CONFLICT;
    /// Publishing to a stream that has ended.
    StreamFinished = "stream_finished", CONFLICT;
    /// A finished stream past its retention.
    Expired = "expired", GONE;
    /// A body over the size limit.
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE;
    /// A `Content-Type` that is not JSON.
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    /// Well-formed JSON with a bad field or event.
    InvalidRequest = "invalid_request", UNPROCESSABLE_ENTITY;
    /// A `pipeline` the server does not run.
    UnknownPipeline = "unknown_pipeline", UNPROCESSABLE_ENTITY;
    /// An `Idempotency-Key` the stream already took with other events.
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY;
    /// Creations from one client over the rate, with `Retry-After`.
    RateLimited = "rate_limited", TOO_MANY_REQUESTS;
    /// A request head over the size or line limit.
    HeadersTooLarge = "headers_too_large", REQUEST_HEADER_FIELDS_TOO_LARGE;
    /// The Worker's auth variables cannot be used: it answers nothing until they are fixed.
    AuthConfigInvalid = "auth_config_invalid", INTERNAL_SERVER_ERROR;
    /// Over the connection limit, with `Retry-After`.
    TooManyConnections = "too_many_connections", SERVICE_UNAVAILABLE;
    /// The store (on the Worker: the runtime) failed, with `Retry-After`.
    StoreUnavailable = "store_unavailable", SERVICE_UNAVAILABLE;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered as `{"error":{"code":"…","message":"…"}}` with its code's status.
///
/// ```
/// use ssekit_api::error::{ApiError, ErrorCode};
/// let e = ApiError::new(ErrorCode::Exists, "a stream with that id exists");
/// assert_eq!((e.status().as_u16(), e.code()), (409, ErrorCode::Exists));
/// assert_eq!(e.body(), r#"{"error":{"code":"exists","message":"a stream with that id exists"}}"#);
/// ```
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    retry_after: Option<u32>,
    /// A `403` for a valid token without the right: [`ApiError::insufficient_scope`].
    insufficient_scope: bool,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and message of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ErrorDetail {
    /// The stable code, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people; it repeats at most 64 characters of a client's value.
    pub message: String,
}

impl ApiError {
    /// An error with this code (and so its status) and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            insufficient_scope: false,
        }
    }

    /// 403 `forbidden` for a valid token that does not grant the request (RFC 6750 §3.1): its
    /// challenge is `Bearer error="insufficient_scope"`. The code, status and body are those of
    /// any `forbidden`; a `403` that no token could lift is made with [`ApiError::new`] and
    /// carries no challenge.
    ///
    /// ```
    /// use ssekit_api::error::{ApiError, ErrorCode};
    /// let e = ApiError::insufficient_scope("the token does not grant create");
    /// assert_eq!((e.status().as_u16(), e.code()), (403, ErrorCode::Forbidden));
    /// assert_eq!(e.www_authenticate(), Some(r#"Bearer error="insufficient_scope""#));
    /// assert_eq!(e.body(), ApiError::new(ErrorCode::Forbidden, "the token does not grant create").body());
    /// ```
    pub fn insufficient_scope(message: impl Into<String>) -> Self {
        Self {
            insufficient_scope: true,
            ..Self::new(ErrorCode::Forbidden, message)
        }
    }

    /// Adds `Retry-After: secs` (for 429 and 503).
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The status, the code's.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after_secs(&self) -> Option<u32> {
        self.retry_after
    }

    /// The challenge in `WWW-Authenticate` (RFC 6750 §3): on every `401`, `Bearer`, and
    /// `Bearer error="invalid_token"` when the token sent was refused (`token_invalid`,
    /// `token_expired`); on a `403` made by [`ApiError::insufficient_scope`],
    /// `Bearer error="insufficient_scope"`. `None` for anything else, other `403`s included.
    ///
    /// ```
    /// use ssekit_api::error::{ApiError, ErrorCode};
    /// let missing = ApiError::new(ErrorCode::TokenMissing, "no token");
    /// assert_eq!(missing.www_authenticate(), Some("Bearer"));
    /// let expired = ApiError::new(ErrorCode::TokenExpired, "expired");
    /// assert_eq!(expired.www_authenticate(), Some(r#"Bearer error="invalid_token""#));
    /// let scope = ApiError::insufficient_scope("the token does not grant create");
    /// assert_eq!(scope.www_authenticate(), Some(r#"Bearer error="insufficient_scope""#));
    /// assert_eq!(ApiError::new(ErrorCode::Forbidden, "no").www_authenticate(), None);
    /// ```
    pub fn www_authenticate(&self) -> Option<&'static str> {
        match self.code {
            ErrorCode::TokenInvalid | ErrorCode::TokenExpired => {
                Some(r#"Bearer error="invalid_token""#)
            }
            code if code.status() == StatusCode::UNAUTHORIZED => Some("Bearer"),
            _ if self.insufficient_scope => Some(r#"Bearer error="insufficient_scope""#),
            _ => None,
        }
    }

    /// The headers of the answer besides its `Content-Type`: `Retry-After` and
    /// `WWW-Authenticate`, when it has them. Every front end (the fast path, axum, the Worker)
    /// writes an error's headers from here.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let retry = self.retry_after.map(|s| ("retry-after", s.to_string()));
        let challenge = self
            .www_authenticate()
            .map(|c| ("www-authenticate", c.to_owned()));
        retry.into_iter().chain(challenge).collect()
    }

    /// The answer's body.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
            },
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::to_string(&self.to_body()).expect("an error body serializes")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status().as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        use http::{header, HeaderName, HeaderValue};
        let mut res = (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        for (name, value) in self.headers() {
            let value = HeaderValue::try_from(value).expect("an error's headers are ASCII");
            res.headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
        res
    }
}

/// The errors several routes or front ends answer, with their one message.
impl ApiError {
    /// 400 `invalid_json`.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidJson, message)
    }

    /// 422 `invalid_request`: well-formed, but a field is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 404 `not_found` for a path no route takes.
    pub fn unknown_route() -> Self {
        Self::not_found("no such route")
    }

    /// 405 `method_not_allowed`: a known route asked with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            "this route does not take that method",
        )
    }

    /// 408 `request_timeout` for a body that did not arrive in time.
    pub fn body_timeout() -> Self {
        Self::new(
            ErrorCode::RequestTimeout,
            "the request body did not arrive in time",
        )
    }

    /// 400 `invalid_last_event_id`.
    pub fn bad_last_event_id(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidLastEventId, message)
    }

    /// 409 `stream_finished`: the stream has its terminal event.
    pub fn finished() -> Self {
        Self::new(
            ErrorCode::StreamFinished,
            "the stream has ended; it takes no more events",
        )
    }

    /// 503 `store_unavailable` with `Retry-After: 1`.
    pub fn store_unavailable() -> Self {
        Self::new(
            ErrorCode::StoreUnavailable,
            "the event store failed; try again",
        )
        .retry_after(1)
    }

    /// 422 `idempotency_key_reused`: the key already published other events to the stream.
    pub fn key_reused() -> Self {
        Self::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with other events in this stream",
        )
    }

    /// 410 `expired`.
    pub fn expired() -> Self {
        Self::new(
            ErrorCode::Expired,
            "the stream has expired and its events were removed",
        )
    }

    /// 404 `not_found` for a stream id that names no stream (or cannot be one).
    pub fn unknown_stream() -> Self {
        Self::not_found("no stream with that id")
    }

    /// 404 `not_found` for a path under `/assets/` that names none of the demo page's files.
    pub fn unknown_asset() -> Self {
        Self::not_found("no such asset")
    }

    /// 409 `exists`: a stream with that id was already created.
    pub fn exists() -> Self {
        Self::new(ErrorCode::Exists, "a stream with that id exists")
    }

    /// 409 `not_a_generation`: cancel was asked of a published stream.
    pub fn not_a_generation() -> Self {
        Self::new(
            ErrorCode::NotAGeneration,
            "only generations can be cancelled; a published stream ends with its publisher's terminal event",
        )
    }

    /// 409 `already_finished`: cancel was asked of a generation that has ended.
    pub fn already_finished() -> Self {
        Self::new(
            ErrorCode::AlreadyFinished,
            "the generation has already ended",
        )
    }

    /// 429 `rate_limited` with `Retry-After: secs` (at least 1): a client created streams
    /// faster than the server allows.
    pub fn rate_limited(secs: u32) -> Self {
        Self::new(
            ErrorCode::RateLimited,
            "too many streams created from this address; retry after Retry-After seconds",
        )
        .retry_after(secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/decisions.md's error table lists exactly the catalogue, code and status, so the
    /// documentation cannot drift from what the code answers.
    #[test]
    fn the_decisions_error_table_is_the_catalogue() {
        let doc = include_str!("../../../docs/decisions.md");
        let table = doc
            .split("| code | status | when |")
            .nth(1)
            .expect("docs/decisions.md has a `| code | status | when |` table");
        let documented: Vec<(String, u16)> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let code = cells[1].trim_matches('`').to_owned();
                let status = cells[2]
                    .parse()
                    .unwrap_or_else(|_| panic!("a status in {l}"));
                (code, status)
            })
            .collect();
        let catalogue: Vec<(String, u16)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.status().as_u16()))
            .collect();
        assert_eq!(
            documented, catalogue,
            "docs/decisions.md's error table must list ErrorCode::ALL, in its order"
        );
    }

    #[test]
    fn names_round_trip_through_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
    }
}
