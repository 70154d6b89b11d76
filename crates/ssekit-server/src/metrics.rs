//! Prometheus metrics: connections, events appended and delivered, resumes, lagged subscribers,
//! pipeline durations.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Open connections, of any kind: what `--max-connections` bounds.
    pub connections: Gauge,
    /// Connections answered `503` because the server held `--max-connections` already.
    pub refused_connections: Counter,
    /// Events appended to any stream.
    pub events_appended: Counter,
    /// Events written to subscribers.
    pub events_delivered: Counter,
    /// Subscriptions that resumed after an id.
    pub resumes: Counter,
    /// Subscribers that fell a whole ring behind and read what they missed from the store.
    pub lagged_catch_ups: Counter,
    /// Connections closed because the client stopped reading.
    pub stalled_disconnects: Counter,
    /// Generations started.
    pub generations_started: Counter,
    /// Seconds from a pipeline's start to its end.
    pub pipeline_duration: Histogram,
    /// Requests refused for their token (401 and 403). No label: nothing of a request's URL
    /// (which may carry a token) becomes one.
    pub auth_refusals: Counter,
    /// Creations refused by the rate limit (429).
    pub rate_limited: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ssekit");
        let m = Metrics {
            connections: Gauge::default(),
            refused_connections: Counter::default(),
            events_appended: Counter::default(),
            events_delivered: Counter::default(),
            resumes: Counter::default(),
            lagged_catch_ups: Counter::default(),
            stalled_disconnects: Counter::default(),
            generations_started: Counter::default(),
            pipeline_duration: Histogram::new(exponential_buckets(0.01, 2.0, 16)),
            auth_refusals: Counter::default(),
            rate_limited: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("connections", "Open connections", m.connections.clone());
        registry.register(
            "refused_connections",
            "Connections refused with 503 over the connection limit",
            m.refused_connections.clone(),
        );
        registry.register(
            "events_appended",
            "Events appended to streams",
            m.events_appended.clone(),
        );
        registry.register(
            "events_delivered",
            "Events written to subscribers",
            m.events_delivered.clone(),
        );
        registry.register(
            "resumes",
            "Subscriptions resumed after a Last-Event-ID",
            m.resumes.clone(),
        );
        registry.register(
            "lagged_subscriber_catch_ups",
            "Subscribers that fell a whole ring behind and read what they missed from the store",
            m.lagged_catch_ups.clone(),
        );
        registry.register(
            "stalled_connection_disconnects",
            "Connections closed because the client stopped reading",
            m.stalled_disconnects.clone(),
        );
        registry.register(
            "generations_started",
            "Generations started",
            m.generations_started.clone(),
        );
        registry.register(
            "pipeline_duration_seconds",
            "Seconds from a pipeline's start to its end",
            m.pipeline_duration.clone(),
        );
        registry.register(
            "auth_refusals",
            "Requests refused for their token (401, 403)",
            m.auth_refusals.clone(),
        );
        registry.register(
            "creations_rate_limited",
            "Creations refused by the per-client rate limit (429)",
            m.rate_limited.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
