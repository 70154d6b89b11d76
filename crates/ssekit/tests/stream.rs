//! Stream semantics of DESIGN §4, against the real binary over loopback.

mod support;

use std::time::Duration;

use support::*;

#[tokio::test]
async fn a_generation_streams_every_event_in_order_as_it_is_appended() {
    let server = Server::memory(&[]);
    let created = create(&server, 2, 40).await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("gen_"));
    assert_eq!(created["eventsUrl"], format!("/v1/generations/{id}/events"));

    let mut sse = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    assert_eq!(sse.status, 200);
    let h = &sse.headers;
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["connection"], "keep-alive");
    assert_eq!(h["x-accel-buffering"], "no");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h.get("content-encoding").is_none());
    let events = sse.collect().await;

    let n = demo_events(2);
    assert_sequence(&events, id, 1, n);
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names[0], "generation-start");
    assert_eq!(names[names.len() - 1], "generation-complete");
    for name in [
        "reasoning-start",
        "reasoning-step",
        "reasoning-complete",
        "block-start",
        "block-content",
        "block-complete",
        "image-placeholder",
        "image-ready",
        "persist-start",
        "persist-complete",
    ] {
        assert!(names.contains(&name), "{name} missing");
    }
    assert_eq!(events[0].data["sessionId"], id);
    assert_eq!(events[0].data["totalBlocks"], 2);

    // Flushed one by one: arrivals are spread over the run, not delivered in one burst at the end.
    let first = events[0].at;
    let last = events[events.len() - 1].at;
    assert!(
        last - first >= Duration::from_millis(40 * 10),
        "events arrived together"
    );
    let distinct_gaps = events
        .windows(2)
        .filter(|w| w[1].at - w[0].at >= Duration::from_millis(20))
        .count();
    assert!(
        distinct_gaps >= (n as usize) / 2,
        "only {distinct_gaps} events arrived apart from the previous one"
    );
}

#[tokio::test]
async fn the_stream_starts_with_a_retry_hint_and_every_event_has_an_id() {
    let server = Server::memory(&["--retry", "250ms"]);
    let created = create(&server, 1, 0).await;
    let sse = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    let raw = String::from_utf8(sse.raw().await).unwrap();
    assert!(raw.starts_with("retry: 250\n\n"), "{raw:?}");
    let frames: Vec<&str> = raw.trim_end().split("\n\n").skip(1).collect();
    assert_eq!(frames.len() as u64, demo_events(1));
    for f in frames {
        assert!(f.starts_with("id: gen_"), "{f:?}");
        assert_eq!(f.lines().filter(|l| l.starts_with("data: ")).count(), 1);
    }
}

#[tokio::test]
async fn resuming_at_every_cut_point_yields_exactly_the_rest() {
    let server = Server::memory(&[]);
    let created = create(&server, 1, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let all = Sse::open(&url, None).await.collect().await;
    let n = all.len() as u64;
    assert_eq!(n, demo_events(1));

    for k in 0..n {
        let last = format!("{id}:{k}");
        // Header form.
        let rest = Sse::open(&url, Some(&last)).await.collect().await;
        assert_sequence(&rest, &id, k + 1, n);
        let key = |e: &Received| (e.id.clone(), e.event.clone(), e.data.clone());
        assert_eq!(
            rest.iter().map(key).collect::<Vec<_>>(),
            all[k as usize..].iter().map(key).collect::<Vec<_>>()
        );
        // Query form, as a page opening a new EventSource sends it.
        let rest = Sse::open(&format!("{url}?lastEventId={last}"), None)
            .await
            .collect()
            .await;
        assert_sequence(&rest, &id, k + 1, n);
    }
}

#[tokio::test]
async fn the_header_wins_over_the_query_when_both_are_sent() {
    let server = Server::memory(&[]);
    let created = create(&server, 1, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let n = Sse::open(&url, None).await.collect().await.len() as u64;
    let rest = Sse::open(
        &format!("{url}?lastEventId={id}:2"),
        Some(&format!("{id}:5")),
    )
    .await
    .collect()
    .await;
    assert_sequence(&rest, &id, 6, n);
}

#[tokio::test]
async fn a_reconnect_after_the_terminal_event_gets_204() {
    let server = Server::memory(&[]);
    let created = create(&server, 1, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let all = Sse::open(&url, None).await.collect().await;
    let terminal = all.last().unwrap().id.clone();
    let sse = Sse::open(&url, Some(&terminal)).await;
    assert_eq!(sse.status, 204);
    // Before the terminal event there is still something to send.
    let sse = Sse::open(&url, Some(&format!("{id}:{}", all.len() - 1))).await;
    assert_eq!(sse.status, 200);
}

#[tokio::test]
async fn a_late_subscriber_gets_the_whole_history_then_live_events() {
    let server = Server::memory(&[]);
    let created = create(&server, 2, 30).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = Sse::open(&url, None).await.collect().await;
    assert_sequence(&events, &id, 1, demo_events(2));
}

#[tokio::test]
async fn three_subscribers_each_get_every_event_once() {
    let server = Server::memory(&[]);
    let created = create(&server, 2, 20).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let subs: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Sse::open(&url, None).await.collect().await })
        })
        .collect();
    for s in subs {
        assert_sequence(&s.await.unwrap(), &id, 1, demo_events(2));
    }
}

#[tokio::test]
async fn the_one_shot_endpoint_streams_and_a_reconnect_resumes_the_same_generation() {
    let server = Server::memory(&[]);
    let url = server.url("/v1/generate?topic=one%20shot&blocks=2&delayMs=20");
    let mut sse = Sse::open(&url, None).await;
    assert_eq!(sse.status, 200);
    let mut seen = Vec::new();
    for _ in 0..7 {
        seen.push(sse.next_event().await.unwrap());
    }
    drop(sse);
    let id = seen[0].data["sessionId"].as_str().unwrap().to_string();
    // The browser's automatic reconnect: the same URL, with Last-Event-ID.
    let rest = Sse::open(&url, Some(&seen[6].id)).await.collect().await;
    assert_sequence(&rest, &id, 8, demo_events(2));
    // One pipeline ran, not two.
    let metrics = http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "ssekit_generations_started_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn keep_alive_comments_arrive_at_the_configured_interval() {
    let server = Server::memory(&["--keepalive", "100ms"]);
    let res = http().post(server.url("/v1/streams")).send().await.unwrap();
    let stream: serde_json::Value = res.json().await.unwrap();
    let mut sse = Sse::open(&server.url(stream["eventsUrl"].as_str().unwrap()), None).await;
    let mut comments = 0;
    while comments < 3 {
        match sse.next_item().await.unwrap() {
            ssekit_protocol::Item::Comment(c) => {
                assert_eq!(c, "keep-alive");
                comments += 1;
            }
            ssekit_protocol::Item::Retry(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_stalled_subscriber_is_disconnected_without_delaying_others_and_resumes_without_a_gap() {
    let server = Server::memory(&["--subscriber-buffer", "16", "--stall-timeout", "500ms"]);
    let stream: serde_json::Value = http()
        .post(server.url("/v1/streams"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let events_url = server.url(stream["eventsUrl"].as_str().unwrap());

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
        let res = http()
            .post(server.url(&format!("/v1/streams/{id}/events")))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "events": events }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let done = serde_json::json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 1}});
    http()
        .post(server.url(&format!("/v1/streams/{id}/events")))
        .bearer_auth(&token)
        .json(&done)
        .send()
        .await
        .unwrap();

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
                || metrics.contains("ssekit_slow_subscriber_disconnects_total 1")
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
