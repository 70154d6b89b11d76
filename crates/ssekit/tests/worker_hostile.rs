//! Hostile and imperfect clients against the Worker under workerd (issue 14, items 11–16 and the
//! Worker's share of 1–8): each case asserts the answer, that the Worker stays healthy, and that
//! a control stream read at the end is complete. Run with `SSEKIT_TARGET=worker` after
//! `scripts/worker-build`; against the native target these cases are skipped (its own suite,
//! `hostile.rs`, covers them there).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

/// Whether to run: these cases name the Worker's settings and look at workerd's process and
/// storage.
fn worker_only() -> bool {
    if !worker_target() {
        eprintln!("skipped: SSEKIT_TARGET=worker runs these");
    }
    worker_target()
}

/// Resident memory of `pid` and its descendants, KiB (the npm `workerd` launcher runs the real
/// binary as a child).
fn tree_rss_kib(pid: u32) -> u64 {
    let mut total = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
        }
        let children = format!("/proc/{p}/task/{p}/children");
        if let Ok(list) = std::fs::read_to_string(children) {
            todo.extend(
                list.split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    total
}

/// A raw connection to the server with every read bounded by `PATIENCE`.
fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Reads until the server closes the connection (or resets it); panics if it is still open
/// after `PATIENCE` without sending anything.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!(
                "the connection was not closed: {e} after {} bytes",
                out.len()
            ),
        }
    }
}

/// The ids of the events in a raw SSE response body, in order.
fn event_ids(raw: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(raw)
        .lines()
        .filter_map(|l| l.strip_prefix("id:"))
        .map(|v| v.trim().to_string())
        .collect()
}

/// Publishes `n` events whose payload is `size` bytes each, one request per event.
async fn publish_big(stream: &Value, n: usize, size: usize) {
    let url = stream["publishUrl"].as_str().unwrap();
    let token = stream["publishToken"].as_str().unwrap();
    let text = "x".repeat(size);
    for i in 0..n {
        let body = json!({ "events": [{ "event": "reasoning-step", "data": { "step": i, "content": text } }] });
        let res = post_events(url, token, &body).await;
        assert_eq!(
            res.status(),
            201,
            "publish {i}: {}",
            res.text().await.unwrap()
        );
    }
}

async fn finish(stream: &Value) {
    let url = stream["publishUrl"].as_str().unwrap();
    let token = stream["publishToken"].as_str().unwrap();
    let body = json!({ "events": [{ "event": "generation-complete", "data": { "success": true, "totalDuration": 1 } }] });
    assert_eq!(post_events(url, token, &body).await.status(), 201);
}

/// The server answers, and a demo generation read at the end is complete and gapless.
async fn assert_healthy(server: &Server) {
    let res = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let created = create(server, 1, 0).await;
    let id = created["id"].as_str().unwrap();
    let mut sse = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    assert_eq!(sse.status, 200);
    let events = sse.collect().await;
    assert_sequence(&events, id, 1, demo_events(1));
}

/// `url` of a created stream, absolute.
fn abs(server: &Server, stream: &Value, key: &str) -> Value {
    let mut s = stream.clone();
    s[key] = json!(server.url(stream[key].as_str().unwrap()));
    s
}

async fn big_stream(server: &Server) -> Value {
    let stream = create_stream(server).await;
    abs(server, &abs(server, &stream, "publishUrl"), "eventsUrl")
}

/// Item 11: a subscriber that stops reading is closed after the stall timeout, whether it reads
/// a finished stream's history or a live stream, and what it had waiting is freed; once it
/// reads again it gets a gapless prefix and then the end of the connection, never the rest.
#[tokio::test]
async fn a_subscriber_that_stops_reading_is_closed_after_the_stall_timeout() {
    if !worker_only() {
        return;
    }
    let server = Server::memory(&["--stall-timeout", "1s"]);
    let stream = big_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    // 90 MB of history first: workerd's memory reaches what publishing alone costs (wasm memory
    // never shrinks; the garbage of 900 KB requests waits for V8's collector).
    let events = 100;
    publish_big(&stream, events, 900_000).await;

    let request =
        |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    let path = format!("/v1/streams/{id}/events");
    // One reader of the live stream and one of its history after it finished; neither reads.
    let mut live = connect(&server);
    live.write_all(request(&path).as_bytes()).unwrap();
    let rss_before = tree_rss_kib(server.pid());
    publish_big(&stream, 100, 900_000).await; // 90 MB more, none of it read
    let rss_stalled = tree_rss_kib(server.pid());
    finish(&stream).await;
    let total = events + 100 + 1;
    let mut replay = connect(&server);
    replay.write_all(request(&path).as_bytes()).unwrap();

    // Well past the timeout (and the quarter-timeout tick that notices it).
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (name, s) in [("live", &mut live), ("replay", &mut replay)] {
        let raw = read_to_close(s);
        let ids = event_ids(&raw);
        assert!(
            ids.len() < total,
            "{name}: the stalled connection got all {total} events"
        );
        let want: Vec<String> = (1..=ids.len()).map(|n| format!("{id}:{n}")).collect();
        assert_eq!(ids, want, "{name}: not a gapless prefix");
    }
    eprintln!(
        "workerd RSS: {} MiB before, {} MiB after 90 MB published past a stalled reader",
        rss_before / 1024,
        rss_stalled / 1024
    );
    // The old channel kept up to 1,024 frames of any size: all 90 MB, and more copies.
    assert!(
        rss_stalled < rss_before + 64 * 1024,
        "a stalled subscriber pinned {} MiB",
        (rss_stalled.saturating_sub(rss_before)) / 1024
    );

    // A reader that reads gets the whole stream.
    let mut sse = Sse::open(stream["eventsUrl"].as_str().unwrap(), None).await;
    let all = sse.collect().await;
    assert_sequence(&all, &id, 1, total as u64);
    assert_healthy(&server).await;
}

/// Item 12: replaying a large history costs a page of memory, not the history (wasm memory never
/// shrinks, so a history read whole stays resident), and the replay is complete and in order.
#[tokio::test]
async fn replaying_a_large_history_keeps_memory_bounded() {
    if !worker_only() {
        return;
    }
    let server = Server::memory(&[]);
    let stream = big_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    publish_big(&stream, 100, 900_000).await;
    finish(&stream).await;

    let pid = server.pid();
    let before = tree_rss_kib(pid);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(tree_rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    for round in 0..2 {
        let mut sse = Sse::open(stream["eventsUrl"].as_str().unwrap(), None).await;
        assert_eq!(sse.status, 200);
        let all = sse.collect().await;
        assert_sequence(&all, &id, 1, 101);
        assert_eq!(
            all[99].data["content"].as_str().unwrap().len(),
            900_000,
            "round {round}"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "workerd RSS: {} MiB before two replays of 90 MB, peak {} MiB",
        before / 1024,
        peak / 1024
    );
    // Before: 1,024 rows per read, the joined page and its JS copy: +400 MB a read.
    assert!(
        peak < before + 64 * 1024,
        "replay grew workerd by {} MiB",
        (peak - before) / 1024
    );
    assert_healthy(&server).await;
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Item 13: asking about ids that were never created (every route that names one) answers 404
/// and leaves nothing in the Worker's storage.
#[tokio::test]
async fn unknown_ids_leave_no_storage_behind() {
    if !worker_only() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::sqlite(dir.path(), &[]);
    let state = dir.path().join("worker-state");
    let created = create_stream(&server).await; // the namespace's directory exists
    let before = files(&state);
    assert!(!before.is_empty(), "no storage in {}", state.display());

    let client = http();
    for i in 0..20 {
        let gen = format!("gen_{i:024}");
        let str_ = format!("str_{i:024}");
        let requests = [
            client.get(server.url(&format!("/v1/generations/{gen}"))),
            client.delete(server.url(&format!("/v1/generations/{gen}"))),
            client.get(server.url(&format!("/v1/generations/{gen}/events"))),
            client.get(server.url(&format!("/v1/generations/{gen}/document"))),
            client.get(server.url(&format!("/v1/generations/{gen}/images/1.svg"))),
            client.get(server.url(&format!("/v1/streams/{str_}/events"))),
            client
                .post(server.url(&format!("/v1/streams/{str_}/events")))
                .bearer_auth(created["publishToken"].as_str().unwrap())
                .json(&json!({ "events": [] })),
        ];
        for req in requests {
            let (status, code) = error_of(req.send().await.unwrap()).await;
            assert_eq!((status, code.as_str()), (404, "not_found"));
        }
    }
    // workerd opens an object's database before the object runs; the object then deletes all
    // its storage, which leaves at most an empty database (one 4 KiB page, no journal) where
    // it stored data before (and on Cloudflare, no object at all).
    for file in files(&state) {
        if before.contains(&file) {
            continue;
        }
        let size = std::fs::metadata(&file).map_or(0, |m| m.len());
        assert!(
            file.ends_with(".sqlite") && size <= 4096,
            "an unknown id left {file} ({size} bytes)"
        );
    }
    assert_healthy(&server).await;
}

/// Reads one short response: its head and a JSON body (the server may keep the connection).
fn read_response(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let done = String::from_utf8_lossy(&out)
            .split_once("\r\n\r\n")
            .is_some_and(|(_, body)| body.contains('}'));
        if done {
            return out;
        }
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no answer: {e} after {:?}", String::from_utf8_lossy(&out)),
        }
    }
}

/// The status line and JSON error code of a raw HTTP response.
fn status_and_code(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // A chunked body: the JSON is on the line after the chunk size.
    let json = body.lines().find(|l| l.starts_with('{')).unwrap_or("");
    let value: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    let code = value["error"]["code"].as_str().unwrap_or("").to_string();
    (status, code)
}

/// Item 14: a body that stops arriving is answered 408 `request_timeout` once the body timeout
/// passes, on the Worker's own routes and on those its objects serve.
#[tokio::test]
async fn a_stalled_request_body_is_timed_out() {
    if !worker_only() {
        return;
    }
    let server = Server::memory(&["--body-timeout", "1s"]);
    let stream = create_stream(&server).await;
    let publish = stream["publishUrl"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    for (path, auth) in [
        ("/v1/streams".to_string(), String::new()),
        ("/v1/generations".to_string(), String::new()),
        (publish, format!("Authorization: Bearer {token}\r\n")),
    ] {
        let mut s = connect(&server);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"events\":"
        );
        s.write_all(head.as_bytes()).unwrap();
        let raw = read_response(&mut s);
        assert_eq!(
            status_and_code(&raw),
            (408, "request_timeout".to_string()),
            "{path}"
        );
    }
    assert_healthy(&server).await;
}

/// Item 15: a body over the limit always gets the JSON 413, never a reset while it is sent.
#[tokio::test]
async fn an_oversized_body_always_gets_the_413() {
    if !worker_only() {
        return;
    }
    let server = Server::memory(&["--max-body", "65536"]);
    let stream = create_stream(&server).await;
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let big = json!({ "topic": "x".repeat(4_000_000) }).to_string();
    for i in 0..40 {
        let client = http();
        let req = match i % 2 {
            0 => client.post(server.url("/v1/streams")),
            _ => client.post(&publish).bearer_auth(&token),
        };
        let res = req
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("try {i}: no answer: {e}"));
        assert_eq!(
            error_of(res).await,
            (413, "payload_too_large".into()),
            "try {i}"
        );
    }
    assert_healthy(&server).await;
}

/// Items 4–6, 8 and 16 on the Worker: one answer with the native server for repeated
/// `Last-Event-ID`, percent-encoded and non-UTF-8 ids, a huge id; the demo's HTML sanitized the
/// same way.
#[tokio::test]
async fn hostile_ids_and_headers_get_the_native_answers() {
    if !worker_only() {
        return;
    }
    let server = Server::memory(&[]);
    let res = http()
        .post(server.url("/v1/generations"))
        .json(&json!({ "topic": "a\"b'c", "blocks": 1, "delayMs": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let encoded = id.replace('_', "%5F");
    let mut sse = Sse::open(
        &server.url(&format!("/v1/generations/{encoded}/events")),
        None,
    )
    .await;
    assert_eq!(sse.status, 200);
    let events = sse.collect().await;
    assert_sequence(&events, &id, 1, demo_events(1));
    // The sanitizer's serialization, as the native emitter stores it.
    let html: Vec<&str> = events
        .iter()
        .filter(|e| e.event == "block-content")
        .map(|e| e.data["html"].as_str().unwrap())
        .collect();
    assert!(!html.is_empty());
    for h in html {
        assert!(h.contains("a\"b'c"), "{h}");
    }

    for path in [
        "/v1/generations/%ff/events".to_string(),
        "/v1/generations/%ff".to_string(),
        "/v1/generations/gen%2Fx/events".to_string(),
        format!("/v1/generations/{encoded}%ff/document"),
    ] {
        let res = http().get(server.url(&path)).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "not_found".into()), "{path}");
    }
    let res = http()
        .get(server.url(&format!("/v1/generations/{encoded}/images/%ff")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);

    let url = server.url(&format!("/v1/generations/{id}/events"));
    let res = http()
        .get(&url)
        .header("last-event-id", format!("{id}:3"))
        .header("last-event-id", format!("{id}:1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "error": { "code": "invalid_last_event_id", "message": "several Last-Event-ID values were sent; send one" } })
    );
    let res = http()
        .get(&url)
        .header("last-event-id", "x".repeat(10_000))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.len() < 300, "the error echoed {} bytes", body.len());
    assert_healthy(&server).await;
}
