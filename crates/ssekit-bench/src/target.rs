//! How to create, publish to and subscribe to a stream on each system under test.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::System;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A server under test.
#[derive(Clone)]
pub struct Target {
    pub system: System,
    pub base: String,
    http: reqwest::Client,
}

/// A stream on it.
#[derive(Clone)]
pub struct Stream {
    /// The subscriber path (`/v1/generations/{id}/events`, `/sub/{id}`).
    pub events_path: String,
    publish_path: String,
    token: Option<String>,
}

/// Nanoseconds since the Unix epoch: publisher and subscribers share the clock of this machine.
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// An event's text: the send time the subscriber measures latency from, and padding.
pub fn payload(padding: usize) -> String {
    format!("t={} {}", now_nanos(), "x".repeat(padding))
}

impl Target {
    pub fn new(system: System, base: &str) -> Self {
        Self {
            system,
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("http client"),
        }
    }

    pub async fn create_stream(&self) -> Result<Stream, Error> {
        match self.system {
            System::Ssekit => {
                let res = self
                    .http
                    .post(format!("{}/v1/streams", self.base))
                    .send()
                    .await?
                    .error_for_status()?;
                let body: serde_json::Value = res.json().await?;
                let field = |k: &str| {
                    body[k]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("no {k} in {body}"))
                };
                Ok(Stream {
                    events_path: field("eventsUrl")?,
                    publish_path: field("publishUrl")?,
                    token: Some(field("publishToken")?),
                })
            }
            System::Nchan | System::Node => {
                let id = format!("bench{}", now_nanos());
                Ok(Stream {
                    events_path: format!("/sub/{id}"),
                    publish_path: format!("/pub/{id}"),
                    token: None,
                })
            }
        }
    }

    /// Publishes `payloads` in order: one request for ssekit and Node (a batch), one per event for nchan.
    pub async fn publish(&self, stream: &Stream, payloads: &[String]) -> Result<(), Error> {
        let url = format!("{}{}", self.base, stream.publish_path);
        match self.system {
            System::Ssekit => {
                let events: Vec<_> = payloads
                    .iter()
                    .enumerate()
                    .map(|(i, p)| json!({"event": "reasoning-step", "data": {"step": i, "content": p}}))
                    .collect();
                self.http
                    .post(&url)
                    .bearer_auth(stream.token.as_deref().unwrap_or_default())
                    .json(&json!({ "events": events }))
                    .send()
                    .await?
                    .error_for_status()?;
            }
            System::Node => {
                self.http
                    .post(&url)
                    .json(&payloads)
                    .send()
                    .await?
                    .error_for_status()?;
            }
            System::Nchan => {
                for p in payloads {
                    self.http
                        .post(&url)
                        .header("content-type", "text/plain")
                        .body(p.clone())
                        .send()
                        .await?
                        .error_for_status()?;
                }
            }
        }
        Ok(())
    }

    /// Starts a demo generation (ssekit only); returns its events path.
    pub async fn start_generation(&self, blocks: u32, delay_ms: u64) -> Result<String, Error> {
        let res = self
            .http
            .post(format!("{}/v1/generations", self.base))
            .json(&json!({"topic": "bench", "blocks": blocks, "delayMs": delay_ms}))
            .send()
            .await?
            .error_for_status()?;
        let body: serde_json::Value = res.json().await?;
        Ok(body["eventsUrl"].as_str().ok_or("no eventsUrl")?.to_owned())
    }
}
