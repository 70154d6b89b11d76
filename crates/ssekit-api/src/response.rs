//! What the API answers, as types: the native server and the Worker both serialize these, the
//! web client gets their TypeScript twins (ts-rs, in `web/src/generated`), and the OpenAPI
//! document their schemas.
//!
//! Fields are declared in alphabetical order: the answers were `serde_json::Value` maps before,
//! which serialize their keys sorted, so the JSON on the wire stays byte for byte the same.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ssekit_events::{BlockSnapshot, Snapshot, StreamStatus};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::stream::{StreamKind, StreamMeta};

/// Where a stream's events are read.
pub fn events_url(id: &str) -> String {
    format!("/v1/generations/{id}/events")
}

/// Where a stream's snapshot is read.
pub fn snapshot_url(id: &str) -> String {
    format!("/v1/generations/{id}")
}

/// An answer to a creation, which may carry a subscribe token for the new stream (see
/// [`crate::auth::Auth::mint_subscribe`]).
pub trait Creation {
    /// Carries `token`: as `token`, and in `eventsUrl` as `?token=`, so a backend can hand a
    /// browser one URL.
    fn add_subscribe_token(&mut self, token: &str);
}

fn with_token(events_url: &mut String, token_field: &mut Option<String>, token: &str) {
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    events_url.push_str(&format!("?{}={encoded}", crate::auth::QUERY_PARAM));
    *token_field = Some(token.to_owned());
}

/// `201` to `POST /v1/generations`: the new generation's id and URLs (relative to the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GenerationCreated {
    /// The document saved at `persist-complete`.
    pub document_url: String,
    /// The event stream (with `?token=` when the answer carries a token).
    pub events_url: String,
    /// The generation's stream id.
    pub id: String,
    /// The snapshot.
    pub snapshot_url: String,
    /// With auth on and a secret to sign it: a token that may subscribe to this stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub token: Option<String>,
}

impl GenerationCreated {
    /// The answer for generation `id`, without a token.
    ///
    /// ```
    /// let answer = ssekit_api::response::GenerationCreated::new("gen_1");
    /// assert_eq!(
    ///     serde_json::to_string(&answer).unwrap(),
    ///     r#"{"documentUrl":"/v1/generations/gen_1/document","eventsUrl":"/v1/generations/gen_1/events","id":"gen_1","snapshotUrl":"/v1/generations/gen_1"}"#
    /// );
    /// ```
    pub fn new(id: &str) -> Self {
        Self {
            document_url: format!("/v1/generations/{id}/document"),
            events_url: events_url(id),
            id: id.to_owned(),
            snapshot_url: snapshot_url(id),
            token: None,
        }
    }
}

impl Creation for GenerationCreated {
    fn add_subscribe_token(&mut self, token: &str) {
        with_token(&mut self.events_url, &mut self.token, token);
    }
}

/// `201` to `POST /v1/streams`: the new stream's id, its publish token and URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StreamCreated {
    /// The event stream (with `?token=` when the answer carries a token).
    pub events_url: String,
    /// The stream id.
    pub id: String,
    /// The capability to publish to this stream: `Authorization: Bearer {publishToken}`.
    pub publish_token: String,
    /// Where events are published.
    pub publish_url: String,
    /// The snapshot.
    pub snapshot_url: String,
    /// With auth on and a secret to sign it: a token that may subscribe to this stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub token: Option<String>,
}

impl StreamCreated {
    /// The answer for stream `id` with publish token `publish_token`, without a token.
    pub fn new(id: &str, publish_token: &str) -> Self {
        Self {
            events_url: events_url(id),
            id: id.to_owned(),
            publish_token: publish_token.to_owned(),
            publish_url: format!("/v1/streams/{id}/events"),
            snapshot_url: snapshot_url(id),
            token: None,
        }
    }
}

impl Creation for StreamCreated {
    fn add_subscribe_token(&mut self, token: &str) {
        with_token(&mut self.events_url, &mut self.token, token);
    }
}

/// `201` to a publish: the ids of the stored events, in order, and the last of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Published {
    /// The stored events' ids (`{streamId}:{seq}`).
    pub ids: Vec<String>,
    /// The last of `ids`.
    pub last_event_id: Option<String>,
}

impl Published {
    /// The answer for the events stored at `seqs` of `stream`.
    ///
    /// ```
    /// let answer = ssekit_api::response::Published::new("str_1", [4, 5]);
    /// assert_eq!(serde_json::to_string(&answer).unwrap(), r#"{"ids":["str_1:4","str_1:5"],"lastEventId":"str_1:5"}"#);
    /// ```
    pub fn new(stream: &str, seqs: impl IntoIterator<Item = u64>) -> Self {
        let ids: Vec<String> = seqs.into_iter().map(|s| format!("{stream}:{s}")).collect();
        let last_event_id = ids.last().cloned();
        Self { ids, last_event_id }
    }
}

/// The status a cancel answers: always `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum CancelledStatus {
    /// The generation was cancelled: its stream ends with the cancel `error`.
    Cancelled,
}

/// `202` to `DELETE /v1/generations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Cancelled {
    /// The generation's id.
    pub id: String,
    /// `cancelled`.
    pub status: CancelledStatus,
}

impl Cancelled {
    /// The answer for generation `id`.
    ///
    /// ```
    /// let answer = ssekit_api::response::Cancelled::new("gen_1");
    /// assert_eq!(serde_json::to_string(&answer).unwrap(), r#"{"id":"gen_1","status":"cancelled"}"#);
    /// ```
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            status: CancelledStatus::Cancelled,
        }
    }
}

/// The status `/healthz` answers: always `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum HealthStatus {
    /// The server answers.
    Ok,
}

/// `200` to `GET /healthz`: `{"status":"ok"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Health {
    /// `ok`.
    pub status: HealthStatus,
}

impl Health {
    /// The only answer.
    pub const OK: Health = Health {
        status: HealthStatus::Ok,
    };
}

/// `200` to `GET /v1/generations/{id}`: the stream's state folded from its events (the
/// vocabulary's; application events are ignored), with the stream's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GenerationSnapshot {
    /// The blocks announced or started, by index.
    pub blocks: Vec<BlockSnapshot>,
    /// Creation time, ms since the Unix epoch.
    #[ts(type = "number")]
    pub created_at: u64,
    /// The persisted document's URL, once `persist-complete` was seen.
    pub document_url: Option<String>,
    /// The message of the last `error` event.
    pub error: Option<String>,
    /// The stream's events.
    pub events_url: String,
    /// When it ended, ms since the Unix epoch.
    #[ts(type = "number | null")]
    pub finished_at: Option<u64>,
    /// The stream id.
    pub id: String,
    /// A generation (run by a pipeline) or a published stream.
    pub kind: StreamKind,
    /// The id of the stream's last event (of any kind), `null` before the first.
    pub last_event_id: Option<String>,
    /// The model named by `generation-start`.
    pub model: Option<String>,
    /// The pipeline of a generation (`null` for a published stream).
    pub pipeline: Option<String>,
    /// Reasoning steps, in order.
    pub reasoning: Vec<String>,
    /// Running, or how it ended.
    pub status: StreamStatus,
    /// The topic of a generation (`null` for a published stream).
    pub topic: Option<String>,
    /// Blocks announced by `generation-start`.
    pub total_blocks: u32,
    /// The `generation-complete` total duration, ms.
    #[ts(type = "number | null")]
    pub total_duration: Option<u64>,
}

impl GenerationSnapshot {
    /// The snapshot of the stream `meta` describes, whose events folded into `snap`.
    pub fn new(meta: &StreamMeta, snap: &Snapshot) -> Self {
        let id = &meta.id;
        let info = |field: &str| {
            meta.info
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            blocks: snap.blocks.values().cloned().collect(),
            created_at: meta.created_at,
            document_url: snap.document_url.clone(),
            error: snap.error.clone(),
            events_url: events_url(id),
            finished_at: meta.finished_at,
            id: id.clone(),
            kind: meta.kind,
            last_event_id: (meta.last_seq > 0).then(|| format!("{id}:{}", meta.last_seq)),
            model: snap.model.clone(),
            pipeline: info("pipeline"),
            reasoning: snap.reasoning.clone(),
            status: meta.status,
            topic: info("topic"),
            total_blocks: snap.total_blocks,
            total_duration: snap.total_duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_snapshot_is_the_folded_state_with_the_streams_facts() {
        let mut meta = StreamMeta::new(
            "gen_1".into(),
            StreamKind::Generation,
            json!({"pipeline": "demo", "topic": "owls", "blocks": 1, "delayMs": 0}),
            7,
        );
        meta.last_seq = 3;
        let mut snap = Snapshot::default();
        snap.apply(
            &ssekit_events::Event::from_parts(
                "generation-start",
                r#"{"sessionId":"s","totalBlocks":1,"model":"m"}"#,
            )
            .unwrap(),
        );
        let body = serde_json::to_value(GenerationSnapshot::new(&meta, &snap)).unwrap();
        assert_eq!(
            body,
            json!({
                "blocks": [{"blockIndex": 0, "blockId": null, "title": null, "html": "",
                            "status": "pending", "images": []}],
                "createdAt": 7, "documentUrl": null, "error": null,
                "eventsUrl": "/v1/generations/gen_1/events", "finishedAt": null, "id": "gen_1",
                "kind": "generation", "lastEventId": "gen_1:3", "model": "m", "pipeline": "demo",
                "reasoning": [], "status": "running", "topic": "owls", "totalBlocks": 1,
                "totalDuration": null
            })
        );
    }

    #[test]
    fn a_creation_answer_carries_its_token_in_the_events_url() {
        let mut answer = StreamCreated::new("str_x", "pub_x");
        answer.add_subscribe_token("a.b+c");
        assert_eq!(answer.token.as_deref(), Some("a.b+c"));
        assert_eq!(
            answer.events_url,
            "/v1/generations/str_x/events?token=a.b%2Bc"
        );
    }
}
