//! At open: does this Redis keep what it acknowledges? `appendonly`, `appendfsync` and
//! `maxmemory-policy` of each node, with a warning for every setting under which an acknowledged
//! event can be lost.

use std::collections::HashMap;

use super::conn::{CONNECT_TIMEOUT, RESPONSE_TIMEOUT};

/// The warnings for one node's settings (`CONFIG GET` answers).
pub(super) fn warnings(node: &str, config: &HashMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    match config.get("appendonly").map(String::as_str) {
        Some("yes") => match config.get("appendfsync").map(String::as_str) {
            Some("always") => {}
            Some(other) => out.push(format!(
                "redis {node}: appendfsync is {other:?}: a crash of Redis (or of its machine) loses the events acknowledged since the last fsync (up to a second with everysec); set `appendfsync always` for acknowledged = on disk"
            )),
            None => out.push(format!("redis {node}: appendfsync is unknown")),
        },
        Some(_) => out.push(format!(
            "redis {node}: appendonly is off: a restart of Redis loses every event written since the last RDB snapshot; set `appendonly yes` and `appendfsync always`"
        )),
        None => out.push(format!("redis {node}: appendonly is unknown")),
    }
    match config.get("maxmemory-policy").map(String::as_str) {
        Some("noeviction") => {}
        Some(policy) => out.push(format!(
            "redis {node}: maxmemory-policy is {policy:?}: when Redis reaches maxmemory it may evict streams, running ones included; set `maxmemory-policy noeviction` (appends then fail with 503 instead)"
        )),
        None => out.push(format!("redis {node}: maxmemory-policy is unknown")),
    }
    out
}

/// Checks every node and logs a warning per risky setting (or that it cannot check). A node not
/// reachable yet (Redis starting after the instance) is asked again until it answers, so its
/// settings are checked all the same.
pub(super) async fn check(nodes: Vec<String>) {
    for node in nodes {
        loop {
            match settings(&node).await {
                Ok(config) => {
                    for w in warnings(&redact(&node), &config) {
                        tracing::warn!("{w}");
                    }
                }
                Err(e) if e.is_io_error() || e.is_connection_refusal() || e.is_timeout() => {
                    tracing::debug!(node = %redact(&node), error = %e, "redis not reachable: its durability settings are checked when it answers");
                    tokio::time::sleep(RETRY_UNREACHABLE).await;
                    continue;
                }
                Err(e) => tracing::warn!(
                    node = %redact(&node),
                    error = %e,
                    "cannot check redis durability settings (CONFIG GET refused or failed): acknowledged events may be lost if appendonly/appendfsync/maxmemory-policy are not `yes`/`always`/`noeviction`"
                ),
            }
            break;
        }
    }
}

/// How often an unreachable node is asked again for its settings.
const RETRY_UNREACHABLE: std::time::Duration = std::time::Duration::from_secs(2);

async fn settings(node: &str) -> redis::RedisResult<HashMap<String, String>> {
    let client = redis::Client::open(node)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let mut out = HashMap::new();
    for name in ["appendonly", "appendfsync", "maxmemory-policy"] {
        let pairs: HashMap<String, String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query_async(&mut conn)
            .await?;
        out.extend(pairs);
    }
    Ok(out)
}

/// `node` without a password.
fn redact(node: &str) -> String {
    match (node.find("://"), node.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &node[..scheme], &node[at + 1..])
        }
        _ => node.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_appendonly_always_and_noeviction_are_quiet() {
        let safe = config(&[
            ("appendonly", "yes"),
            ("appendfsync", "always"),
            ("maxmemory-policy", "noeviction"),
        ]);
        assert!(warnings("n", &safe).is_empty());
        let everysec = config(&[
            ("appendonly", "yes"),
            ("appendfsync", "everysec"),
            ("maxmemory-policy", "allkeys-lru"),
        ]);
        let w = warnings("n", &everysec);
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("everysec") && w[1].contains("allkeys-lru"));
        let off = config(&[("appendonly", "no"), ("maxmemory-policy", "noeviction")]);
        assert!(warnings("n", &off)[0].contains("appendonly is off"));
        assert_eq!(redact("redis://u:secret@h:1/0"), "redis://…@h:1/0");
    }
}
