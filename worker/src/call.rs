//! What the Worker asks of a stream's Durable Object: the one spelling of the object's internal
//! requests, `{method} https://stream/{id}/{action}`, that the entry ([`crate::routes`]) builds and
//! the object ([`crate::stream`]) parses. Clients never reach these: the public routes are
//! `ssekit_api::routes`.

use ssekit_api::ApiError;
use ssekit_events::EventId;
use worker::Method;

/// One request to a stream's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Create the stream: the body is its `StreamMeta`.
    Init,
    /// Its events, after a position when resuming.
    Events(Option<EventId>),
    /// Its snapshot.
    Snapshot,
    /// Its persisted document.
    Document,
    /// One of its images, by name (decoded).
    Image(String),
    /// Cancel the generation.
    Cancel,
    /// Publish the request's body; its headers are forwarded with it.
    Publish,
}

impl Call {
    /// The method the object is asked with.
    pub fn method(&self) -> Method {
        match self {
            Call::Init | Call::Cancel | Call::Publish => Method::Post,
            _ => Method::Get,
        }
    }

    /// The URL of this call to stream `id`'s object.
    pub fn url(&self, id: &str) -> String {
        let action = match self {
            Call::Init => "init".to_owned(),
            Call::Events(None) => "events".to_owned(),
            Call::Events(Some(after)) => format!("events?after={}", encode(&after.to_string())),
            Call::Snapshot => "snapshot".to_owned(),
            Call::Document => "document".to_owned(),
            // A path segment: a space is %20 there, not the form encoding's `+`.
            Call::Image(name) => format!("image/{}", encode(name).replace('+', "%20")),
            Call::Cancel => "cancel".to_owned(),
            Call::Publish => "publish".to_owned(),
        };
        format!("https://stream/{id}/{action}")
    }

    /// The stream id and call a request to an object names (`path` and `query` of a URL made by
    /// [`Call::url`]); `404` for anything else.
    pub fn parse(method: &Method, path: &str, query: &str) -> Result<(String, Call), ApiError> {
        let mut parts = path.trim_start_matches('/').splitn(3, '/');
        let id = parts.next().unwrap_or("").to_owned();
        let action = parts.next().unwrap_or("");
        let rest = parts.next();
        let call = match (method, action, rest) {
            (Method::Post, "init", None) => Call::Init,
            (Method::Get, "events", None) => {
                let after = ssekit_api::query_param(query, "after")
                    .map(|a| a.parse::<EventId>())
                    .transpose()
                    .map_err(|e| ApiError::bad_last_event_id(e.to_string()))?;
                Call::Events(after)
            }
            (Method::Get, "snapshot", None) => Call::Snapshot,
            (Method::Get, "document", None) => Call::Document,
            // Not UTF-8: no image has that name, the object's 404.
            (Method::Get, "image", Some(name)) => {
                Call::Image(ssekit_api::path_segment(name).unwrap_or_default())
            }
            (Method::Post, "cancel", None) => Call::Cancel,
            (Method::Post, "publish", None) => Call::Publish,
            _ => return Err(ApiError::unknown_route()),
        };
        Ok((id, call))
    }
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_parses_back_from_its_url() {
        let after: EventId = "gen_a:3".parse().unwrap();
        for call in [
            Call::Init,
            Call::Events(None),
            Call::Events(Some(after)),
            Call::Snapshot,
            Call::Document,
            Call::Image("b 1/%.svg".into()),
            Call::Cancel,
            Call::Publish,
        ] {
            let url = call.url("gen_a");
            let rest = url.strip_prefix("https://stream").unwrap();
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (id, parsed) = Call::parse(&call.method(), path, query).unwrap();
            assert_eq!((id.as_str(), parsed), ("gen_a", call));
        }
        assert!(Call::parse(&Method::Get, "/gen_a/cancel", "").is_err());
    }
}
