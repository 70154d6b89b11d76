//! Stream semantics of the native server beyond the conformance suite: stalled subscribers and reused HTTP/1.1 connections on its own front end.

mod support;

use std::time::Duration;

use support::*;

#[tokio::test]
async fn a_stalled_subscriber_is_disconnected_without_delaying_others_and_resumes_without_a_gap() {
    let server = Server::memory(&["--subscriber-buffer", "16", "--stall-timeout", "500ms"]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let events_url = server.url(stream["eventsUrl"].as_str().unwrap());
    let publish = server.url(stream["publishUrl"].as_str().unwrap());

    // The stalled subscriber: a raw socket that sends the request and never reads.
    let addr = server.base.trim_start_matches("http://").to_string();
    let path = stream["eventsUrl"].as_str().unwrap().to_string();
    let stalled = {
        use tokio::io::AsyncWriteExt;
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        s
    };
    let healthy = {
        let url = events_url.clone();
        tokio::spawn(async move { Sse::open(&url, None).await.collect().await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Enough bytes to fill every buffer between the server and the stalled socket.
    let big = "x".repeat(16 * 1024);
    let total = 400u64;
    for batch in 0..(total / 20) {
        let events: Vec<_> = (0..20)
            .map(|i| serde_json::json!({"event": "reasoning-step", "data": {"step": batch * 20 + i + 1, "content": big}}))
            .collect();
        let res = post_events(&publish, &token, &serde_json::json!({ "events": events })).await;
        assert_eq!(res.status(), 201);
    }
    let done = serde_json::json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 1}});
    let res = post_events(&publish, &token, &done).await;
    assert_eq!(res.status(), 201);

    // The healthy subscriber got everything, undelayed by the stalled one.
    let got = tokio::time::timeout(PATIENCE, healthy)
        .await
        .unwrap()
        .unwrap();
    assert_sequence(&got, &id, 1, total + 1);

    // The stalled one is cut off: reading what reached its socket ends in EOF before the end.
    let metrics_url = server.url("/metrics");
    eventually_async(|| {
        let url = metrics_url.clone();
        async move {
            let metrics = http().get(url).send().await.unwrap().text().await.unwrap();
            metrics.contains("ssekit_stalled_connection_disconnects_total 1")
        }
    })
    .await;
    let received = read_raw_until_eof(stalled).await;
    let mut parser = ssekit_protocol::Parser::new();
    let items = parser.push(&received);
    let ids: Vec<String> = items
        .into_iter()
        .filter_map(|i| match i {
            ssekit_protocol::Item::Event(e) => Some(e.id),
            _ => None,
        })
        .collect();
    let last_seen = ids.len() as u64;
    assert!(
        last_seen < total + 1,
        "the stalled subscriber was not disconnected"
    );
    assert_sequence(
        &ids.iter()
            .map(|i| Received {
                id: i.clone(),
                event: String::new(),
                data: serde_json::Value::Null,
                at: std::time::Instant::now(),
            })
            .collect::<Vec<_>>(),
        &id,
        1,
        last_seen,
    );
    // It resumes from its last id and gets the rest, without a gap.
    let last_id = format!("{id}:{last_seen}");
    let rest = Sse::open(&events_url, Some(&last_id)).await.collect().await;
    assert_sequence(&rest, &id, last_seen + 1, total + 1);
}

async fn eventually_async<F, Fut>(mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + PATIENCE;
    while !f().await {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not reached in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads an HTTP/1.1 chunked SSE response from a raw socket until EOF; returns the body bytes.
async fn read_raw_until_eof(mut s: tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, s.read_to_end(&mut all))
        .await
        .expect("EOF in time");
    let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    // De-chunk: size line, data, CRLF … until the bytes run out (the cut may end mid-chunk).
    let mut body = Vec::new();
    let mut rest = &all[head_end..];
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..pos]).unwrap().trim(), 16)
            .unwrap_or(0);
        rest = &rest[pos + 2..];
        if size == 0 || rest.len() < size {
            body.extend_from_slice(&rest[..size.min(rest.len())]);
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[(size + 2).min(rest.len())..];
    }
    body
}

#[tokio::test]
async fn a_subscription_on_a_reused_connection_is_the_same_stream() {
    // A fresh connection's subscription is served straight from the socket; one on a connection
    // that already carried another request goes through hyper and the router. Same bytes, same headers.
    let server = Server::memory(&["--retry", "300ms"]);
    let created = create(&server, 1, 0).await;
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let fresh = Sse::open(&url, None).await;
    let fresh_headers = fresh.headers.clone();
    let fresh_body = fresh.raw().await;

    let pooled = reqwest::Client::new();
    assert!(pooled
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .is_ok());
    let res = pooled.get(&url).send().await.unwrap();
    let reused_headers = res.headers().clone();
    let reused_body = res.bytes().await.unwrap();
    assert_eq!(fresh_body, reused_body.to_vec());
    for name in [
        "content-type",
        "cache-control",
        "connection",
        "x-accel-buffering",
        "access-control-allow-origin",
        "vary",
    ] {
        assert_eq!(fresh_headers.get(name), reused_headers.get(name), "{name}");
    }
    // And a second subscription on the same (now hyper-served) connection.
    let again = pooled
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(fresh_body, again.to_vec());
}

#[tokio::test]
async fn a_connection_serves_another_request_after_a_stream_ends() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::memory(&[]);
    let created = create(&server, 1, 0).await;
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("event: generation-complete"));
    assert!(text.contains("0\r\n\r\nHTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("{\"status\":\"ok\"}"), "{text}");
}
