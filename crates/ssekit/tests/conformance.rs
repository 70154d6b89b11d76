//! The conformance suite: the HTTP API and stream semantics of DESIGN §2–5, black-box over
//! loopback, against whichever target `SSEKIT_TARGET` names: `native` (the `ssekit` binary, the
//! default), `worker` (the Worker under `workerd serve`, built by `scripts/worker-build`) or
//! `redis` (three `ssekit serve` instances sharing one Redis behind nginx round-robin, so
//! consecutive requests of one test hit different instances). `scripts/test` runs it against
//! all three; a behaviour that differs between them fails here.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
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
    // Connection is hop-by-hop: the native server sends `keep-alive`; workerd (and Cloudflare's
    // edge) manage it themselves and leave HTTP/1.1's persistent default. Never `close`.
    if let Some(c) = h.get("connection") {
        assert_eq!(c, "keep-alive");
    } else {
        assert!(
            worker_target(),
            "the native server sends Connection: keep-alive"
        );
    }
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
    // The hint ends no event (no blank line): httpx-sse would yield an empty-data event.
    let body = raw
        .strip_prefix("retry: 250\n")
        .unwrap_or_else(|| panic!("{raw:?}"));
    let frames: Vec<&str> = body.trim_end().split("\n\n").collect();
    assert_eq!(frames.len() as u64, demo_events(1));
    for f in frames {
        // The id is the last field, so clients that take it early see it only with the event.
        let lines: Vec<&str> = f.lines().collect();
        assert!(lines[0].starts_with("event: "), "{f:?}");
        assert!(lines[lines.len() - 1].starts_with("id: gen_"), "{f:?}");
        assert_eq!(lines.iter().filter(|l| l.starts_with("data: ")).count(), 1);
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
    // One pipeline ran, not two: the native server counts them in its metrics. (The Worker
    // has no process-wide metrics: its isolates come and go. There the resumed stream itself
    // is the proof: the reconnect got the same generation's remaining events.)
    // On the redis target each instance counts its own: together, one.
    if !worker_target() {
        let mut started = 0;
        for base in server.instance_bases() {
            let metrics = http()
                .get(format!("{base}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            started += metrics
                .lines()
                .find_map(|l| l.strip_prefix("ssekit_generations_started_total "))
                .map_or(0, |n| n.parse::<u64>().unwrap());
        }
        assert_eq!(started, 1, "pipelines started");
    }
}

#[tokio::test]
async fn keep_alive_comments_arrive_at_the_configured_interval() {
    let server = Server::memory(&["--keepalive", "100ms"]);
    let stream = create_stream(&server).await;
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
async fn cancel_stops_the_pipeline_and_ends_the_stream_with_the_cancel_error() {
    let server = Server::memory(&[]);
    let created = create(&server, 6, 100).await;
    let id = created["id"].as_str().unwrap().to_string();
    let mut sse = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    sse.next_event().await.unwrap();
    let res = http()
        .delete(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let rest = sse.collect().await;
    let last = rest.last().unwrap();
    assert_eq!(last.event, "error");
    assert_eq!(last.data["stage"], "cancelled");
    assert_eq!(last.data["recoverable"], false);
    // Nothing after it: the pipeline stopped.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let snap = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snap["status"], "cancelled");
    assert_eq!(snap["lastEventId"], last.id);
    // Cancelling again: it has ended.
    let res = http()
        .delete(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (409, "already_finished".into()));
}

#[tokio::test]
async fn snapshot_document_and_images_of_a_finished_generation() {
    let server = Server::memory(&[]);
    let created = create(&server, 3, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let events = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    let snap = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snap["status"], "complete");
    assert_eq!(snap["topic"], "resumable streams");
    assert_eq!(snap["totalBlocks"], 3);
    assert_eq!(snap["blocks"].as_array().unwrap().len(), 3);
    assert_eq!(snap["blocks"][1]["status"], "complete");
    assert!(
        snap["blocks"][1]["html"].as_str().unwrap().contains("<p>")
            || snap["blocks"][1]["html"].as_str().unwrap().contains("<ul>")
    );
    assert_eq!(snap["lastEventId"], events.last().unwrap().id);

    let doc = http()
        .get(server.url(created["documentUrl"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), 200);
    assert!(doc.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = doc.text().await.unwrap();
    assert!(html.contains("<h1>resumable streams</h1>"));

    let ready = events.iter().find(|e| e.event == "image-ready").unwrap();
    let img = http()
        .get(server.url(ready.data["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/svg+xml");
    assert!(img.text().await.unwrap().starts_with("<svg"));
    let res = http()
        .get(server.url(&format!("/v1/generations/{id}/images/img-9.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);
}

#[tokio::test]
async fn the_demo_pipeline_sanitizes_hostile_topics() {
    let server = Server::memory(&[]);
    let res = http()
        .post(server.url("/v1/generations"))
        .json(&json!({"topic": "<script>alert(1)</script><img src=x onerror=y>", "blocks": 1, "delayMs": 0}))
        .send()
        .await
        .unwrap();
    let created: Value = res.json().await.unwrap();
    let events = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    for e in events.iter().filter(|e| e.event == "block-content") {
        let html = e.data["html"].as_str().unwrap();
        // The topic shows as text; no tag of it survives.
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}

#[tokio::test]
async fn publish_api_needs_the_right_token_and_validates_events() {
    let server = Server::memory(&[]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let step = json!({"event": "reasoning-step", "data": {"step": 1, "content": "thinking"}});

    let res = http().post(&publish).json(&step).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_eq!(error_of(res).await, (401, "unauthorized".into()));
    let res = http()
        .post(&publish)
        .bearer_auth("pub_wrong")
        .json(&step)
        .send()
        .await
        .unwrap();
    // Another stream's capability, not a token short of a right: no insufficient_scope.
    assert!(res.headers().get("www-authenticate").is_none());
    assert_eq!(error_of(res).await, (403, "forbidden".into()));

    for (bad, code) in [
        (json!({"event": "reasoning-stepped", "data": {}}), 422),
        (
            json!({"event": "reasoning-step", "data": {"step": "one"}}),
            422,
        ),
        (
            json!({"event": "reasoning-step\nevent: x", "data": {"step": 1, "content": "x"}}),
            422,
        ),
        (json!({"data": {}}), 422),
        (json!({"events": []}), 422),
        (
            json!({"events": [{"event": "generation-complete", "data": {"success": true, "totalDuration": 1}}, step.clone()]}),
            422,
        ),
    ] {
        let res = post_events(&publish, &token, &bad).await;
        assert_eq!(error_of(res).await.0, code, "{bad}");
    }
    let res = http()
        .post(&publish)
        .bearer_auth(&token)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (400, "invalid_json".into()));

    let res = post_events(&publish, &token, &step).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["lastEventId"], format!("{id}:1"));
    let batch = json!({"events": [
        {"event": "block-content", "data": {"blockIndex": 0, "html": "<p onclick=\"x()\">hi</p><script>bad()</script>"}},
        {"event": "generation-complete", "data": {"success": true, "totalDuration": 3}}
    ]});
    let res = post_events(&publish, &token, &batch).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["ids"], json!([format!("{id}:2"), format!("{id}:3")]));

    let res = post_events(&publish, &token, &step).await;
    assert_eq!(error_of(res).await, (409, "stream_finished".into()));

    let events = Sse::open(&server.url(stream["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    assert_sequence(&events, &id, 1, 3);
    assert_eq!(events[1].data["html"], "<p>hi</p>");
}

#[tokio::test]
async fn application_events_are_published_numbered_resumed_and_ignored_by_the_snapshot() {
    let server = Server::memory(&[]);
    // Two streams get the same built-in events; only the first gets application events
    // between them, so the snapshots must agree.
    let (stream, twin) = (create_stream(&server).await, create_stream(&server).await);
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let events_url = server.url(stream["eventsUrl"].as_str().unwrap());
    let mut live = Sse::open(&events_url, None).await;
    assert_eq!(live.status, 200);

    let progress =
        |done: u32| json!({"event": "import.progress", "data": {"done": done, "total": 3}});
    let builtin = [
        json!({"event": "generation-start", "data": {"sessionId": id, "totalBlocks": 1, "model": "importer"}}),
        json!({"event": "block-start", "data": {"blockIndex": 0, "blockId": "b0", "title": "Rows"}}),
        json!({"event": "block-content", "data": {"blockIndex": 0, "html": "<p>2 rows</p>"}}),
        json!({"event": "block-complete", "data": {"blockIndex": 0, "blockId": "b0"}}),
        json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 9}}),
    ];
    let sent = [
        json!({"event": "import.started", "data": "customers.csv"}),
        builtin[0].clone(),
        progress(1),
        builtin[1].clone(),
        json!({"event": "import.rows", "data": [["ada", 1], ["grace", 2]]}),
        builtin[2].clone(),
        progress(3),
        builtin[3].clone(),
        // Shaped like a terminal error, but an application's: it ends nothing.
        json!({"event": "import.error", "data": {"message": "m", "stage": "s", "recoverable": false}}),
        json!({"event": "import.done", "data": 2.5}),
        builtin[4].clone(),
    ];
    // One alone, then batches mixing both kinds.
    let mut ids = Vec::new();
    for batch in [&sent[0..1], &sent[1..5], &sent[5..6], &sent[6..10]] {
        let body = match batch {
            [one] => one.clone(),
            many => json!({ "events": many }),
        };
        let res = post_events(&publish, &token, &body).await;
        assert_eq!(res.status(), 201);
        let answer: Value = res.json().await.unwrap();
        ids.extend(answer["ids"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(
        ids,
        (1..=10)
            .map(|s| json!(format!("{id}:{s}")))
            .collect::<Vec<_>>()
    );
    // None of them ended the stream.
    let snap = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snap["status"], "running");
    assert_eq!(snap["lastEventId"], format!("{id}:10"));
    let res = post_events(&publish, &token, &sent[10]).await;
    assert_eq!(res.status(), 201);

    // A live subscriber gets every event, in order, with its id, its data as sent.
    let received = live.collect().await;
    assert_sequence(&received, &id, 1, 11);
    for (got, want) in received.iter().zip(&sent) {
        assert_eq!(got.event, want["event"].as_str().unwrap());
        assert_eq!(got.data, want["data"]);
    }
    // A resume from the middle — after a built-in event or an application one — continues
    // after it; after the terminal event, 204.
    for k in [3, 5, 9, 10] {
        let rest = Sse::open(&events_url, Some(&format!("{id}:{k}")))
            .await
            .collect()
            .await;
        assert_sequence(&rest, &id, k + 1, 11);
        let key = |e: &Received| (e.id.clone(), e.event.clone(), e.data.clone());
        assert_eq!(
            rest.iter().map(key).collect::<Vec<_>>(),
            received[k as usize..].iter().map(key).collect::<Vec<_>>()
        );
    }
    let after_end = Sse::open(&events_url, Some(&format!("{id}:11"))).await;
    assert_eq!(after_end.status, 204);

    // The snapshot ignores them: the same as the twin's, which got the built-in events only.
    let twin_id = twin["id"].as_str().unwrap();
    let twin_token = twin["publishToken"].as_str().unwrap();
    let twin_publish = server.url(twin["publishUrl"].as_str().unwrap());
    let res = post_events(&twin_publish, twin_token, &json!({ "events": builtin })).await;
    assert_eq!(res.status(), 201);
    let comparable = |mut snap: Value| {
        for volatile in ["id", "lastEventId", "createdAt", "finishedAt", "eventsUrl"] {
            snap.as_object_mut().unwrap().remove(volatile);
        }
        snap
    };
    let snap = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snap["status"], "complete");
    assert_eq!(snap["blocks"][0]["html"], "<p>2 rows</p>");
    assert_eq!(snap["error"], Value::Null);
    let twin_snap = get_json(&server.url(&format!("/v1/generations/{twin_id}"))).await;
    assert_eq!(comparable(snap), comparable(twin_snap));

    // Any other name is refused, naming the rule; built-in payloads are checked as ever.
    let other = create_stream(&server).await;
    let other_publish = server.url(other["publishUrl"].as_str().unwrap());
    let other_token = other["publishToken"].as_str().unwrap();
    for name in [
        "progress",
        "Import.progress",
        "import progress.x",
        "import.progress\nid: x:1",
        "import:progress.x",
        "import.",
        ".progress",
    ] {
        let res = post_events(
            &other_publish,
            other_token,
            &json!({"event": name, "data": {}}),
        )
        .await;
        assert_eq!(res.status(), 422, "{name:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_request");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("namespace.name"), "{message}");
    }
    let long = format!("import.{}", "x".repeat(64));
    let res = post_events(
        &other_publish,
        other_token,
        &json!({"event": long, "data": 1}),
    )
    .await;
    assert_eq!(error_of(res).await, (422, "invalid_request".into()));
    let res = post_events(
        &other_publish,
        other_token,
        &json!({"event": "block-start", "data": {"blockIndex": "zero"}}),
    )
    .await;
    assert_eq!(error_of(res).await, (422, "invalid_request".into()));
    // Nothing of the refused requests was stored.
    let snap = get_json(&server.url(other["snapshotUrl"].as_str().unwrap())).await;
    assert_eq!(snap["lastEventId"], Value::Null);
}

#[tokio::test]
async fn the_readmes_import_example_publishes_application_events_a_subscriber_follows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let script = readme
        .split("<!-- import:shell -->")
        .nth(1)
        .and_then(|after| after.split("```sh\n").nth(1))
        .and_then(|block| block.split("\n```").next())
        .expect("the README marks its import example");
    let server = Server::memory(&[]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap();
    let mut sse = Sse::open(&server.url(stream["eventsUrl"].as_str().unwrap()), None).await;
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("SSEKIT", &server.base)
        .env("ID", id)
        .env("TOKEN", stream["publishToken"].as_str().unwrap())
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = sse.collect().await;
    assert_sequence(&events, id, 1, 5);
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "import.progress",
            "import.progress",
            "import.progress",
            "import.done",
            "generation-complete"
        ]
    );
    assert_eq!(events[2].data, json!({"done": 300, "total": 300}));
    assert_eq!(events[3].data["rows"], 298);
}

#[tokio::test]
async fn publishing_a_url_with_an_unsafe_scheme_is_refused() {
    let server = Server::memory(&[]);
    let stream = create_stream(&server).await;
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let image = |url: &str| json!({"event": "image-ready", "data": {"blockIndex": 0, "imageId": "i", "url": url}});
    let saved =
        |url: &str| json!({"event": "persist-complete", "data": {"url": url, "target": "store"}});
    for url in [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "vbscript:x",
    ] {
        for bad in [image(url), saved(url)] {
            let res = post_events(&publish, &token, &bad).await;
            assert_eq!(
                error_of(res).await,
                (422, "invalid_request".into()),
                "{bad}"
            );
        }
    }
    let ok = json!({"events": [image("/images/a.svg"), image("https://cdn.example/a.png"), saved("/docs/a.html")]});
    assert_eq!(post_events(&publish, &token, &ok).await.status(), 201);
}

#[tokio::test]
async fn a_generation_takes_no_published_events() {
    let server = Server::memory(&[]);
    let generation = create(&server, 2, 0).await;
    let id = generation["id"].as_str().unwrap();
    let publish = server.url(&format!("/v1/streams/{id}/events"));
    let step = json!({"event": "reasoning-step", "data": {"step": 1, "content": "forged"}});
    for token in ["pub_anything", ""] {
        let res = post_events(&publish, token, &step).await;
        let (status, _) = error_of(res).await;
        assert!(status == 401 || status == 403, "token {token:?}: {status}");
    }
    let events = Sse::open(&server.url(generation["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    assert!(events.iter().all(|e| e.data["content"] != "forged"));
}

#[tokio::test]
async fn cors_preflight_allows_last_event_id_origins_are_configurable_and_headers_exposed() {
    let server = Server::memory(&[]);
    let res = http()
        .request(reqwest::Method::OPTIONS, server.url("/v1/generations"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,last-event-id",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("last-event-id") && allowed.contains("content-type"),
        "{allowed}"
    );

    let server = Server::memory(&["--cors-origin", "https://app.example"]);
    let ok = http()
        .get(server.url("/healthz"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // A script on that page may read the headers the API's answers carry beyond the safelisted.
    let exposed = ok.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "idempotency-replayed",
        "retry-after",
        "location",
        "www-authenticate",
    ] {
        assert!(exposed.split(',').any(|n| n.trim() == name), "{exposed}");
    }
    let other = http()
        .get(server.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_harms_no_other_stream() {
    let server = Server::memory(&["--max-body", "1024"]);
    let created = create(&server, 2, 30).await;
    let id = created["id"].as_str().unwrap().to_string();
    let events_url = server.url(created["eventsUrl"].as_str().unwrap());
    let watcher = {
        let url = events_url.clone();
        tokio::spawn(async move { Sse::open(&url, None).await.collect().await })
    };
    let post = |body: String, ct: &'static str| {
        let url = server.url("/v1/generations");
        async move {
            http()
                .post(url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let json_ct = "application/json";
    for (body, ct, want) in [
        ("{\"topic\": ".to_string(), json_ct, (400, "invalid_json")),
        ("[1,2]".to_string(), json_ct, (422, "invalid_request")),
        ("{}".to_string(), json_ct, (422, "invalid_request")),
        (
            "{\"topic\": 5}".to_string(),
            json_ct,
            (422, "invalid_request"),
        ),
        (
            "{\"topic\": \"x\", \"blocks\": 0}".to_string(),
            json_ct,
            (422, "invalid_request"),
        ),
        (
            "{\"topic\": \"x\", \"blocks\": 51}".to_string(),
            json_ct,
            (422, "invalid_request"),
        ),
        (
            "{\"topic\": \"x\", \"delayMs\": 10001}".to_string(),
            json_ct,
            (422, "invalid_request"),
        ),
        (
            "{\"topic\": \"x\", \"delayMs\": -1}".to_string(),
            json_ct,
            (422, "invalid_request"),
        ),
        (
            format!("{{\"topic\": \"{}\"}}", "x".repeat(2000)),
            json_ct,
            (413, "payload_too_large"),
        ),
        (
            format!("{{\"topic\": \"{}\"}}", "x".repeat(501)),
            json_ct,
            (422, "invalid_request"),
        ),
        (
            "topic=x".to_string(),
            "application/x-www-form-urlencoded",
            (415, "unsupported_media_type"),
        ),
    ] {
        let (status, code) = error_of(post(body.clone(), ct).await).await;
        assert_eq!((status, code.as_str()), want, "{body}");
    }

    let get = |path: String, last: Option<&'static str>| {
        let url = server.url(&path);
        async move {
            let mut req = http().get(url);
            if let Some(l) = last {
                req = req.header("last-event-id", l);
            }
            req.send().await.unwrap()
        }
    };
    assert_eq!(
        error_of(get("/v1/generations/gen_unknown/events".into(), None).await).await,
        (404, "not_found".into())
    );
    assert_eq!(
        error_of(get("/v1/generations/gen_unknown".into(), None).await).await,
        (404, "not_found".into())
    );
    assert_eq!(
        error_of(get("/v1/generations/..%2F..%2Fetc/events".into(), None).await)
            .await
            .0,
        404
    );
    assert_eq!(
        error_of(get("/v1/nowhere".into(), None).await).await,
        (404, "not_found".into())
    );
    let events_path = created["eventsUrl"].as_str().unwrap().to_string();
    for hostile in [
        "garbage",
        "gen_other:1",
        "x:1",
        "-1",
        ":",
        "gen_a:99999999999999999999999",
    ] {
        let res = http()
            .get(&events_url)
            .header("last-event-id", hostile)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(res).await,
            (400, "invalid_last_event_id".into()),
            "{hostile}"
        );
    }
    let ahead = format!("{id}:100000");
    let res = http()
        .get(&events_url)
        .header("last-event-id", &ahead)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (400, "invalid_last_event_id".into()));
    let res = get(format!("{events_path}?lastEventId=nope"), None).await;
    assert_eq!(error_of(res).await, (400, "invalid_last_event_id".into()));
    let res = get("/v1/generate?lastEventId=gen_unknown:3".into(), None).await;
    assert_eq!(error_of(res).await, (404, "not_found".into()));
    let res = get("/v1/generate?topic=x&blocks=many".into(), None).await;
    assert_eq!(error_of(res).await, (422, "invalid_request".into()));
    let res = get("/v1/generate".into(), None).await;
    assert_eq!(error_of(res).await, (422, "invalid_request".into()));
    let res = http()
        .put(server.url("/v1/generations"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 405);

    // The stream that was running all along was not disturbed.
    let events = watcher.await.unwrap();
    assert_sequence(&events, &id, 1, demo_events(2));
}

#[tokio::test]
async fn kill_9_mid_generation_then_restart_serves_every_stored_event_and_ends_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::sqlite(dir.path(), &[]);
    let created = create(&server, 6, 50).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();

    let mut sse = Sse::open(&server.url(&path), None).await;
    let mut before = Vec::new();
    for _ in 0..10 {
        before.push(sse.next_event().await.unwrap());
    }
    server.kill9();
    // Whatever was in flight when the process died is received, then the connection ends.
    before.extend(sse.collect().await);
    assert_sequence(&before, &id, 1, before.len() as u64);
    assert!(
        (before.len() as u64) < demo_events(6),
        "the generation finished before the kill"
    );

    server.restart();
    // Everything delivered before the crash was on disk: a fresh subscriber gets it all again,
    // then the terminal recoverable error of a dead producer.
    let all = Sse::open(&server.url(&path), None).await.collect().await;
    let n = all.len() as u64;
    assert_sequence(&all, &id, 1, n);
    let key = |e: &Received| (e.id.clone(), e.event.clone(), e.data.clone());
    assert_eq!(
        all[..before.len()].iter().map(key).collect::<Vec<_>>(),
        before.iter().map(key).collect::<Vec<_>>()
    );
    let last = all.last().unwrap();
    assert_eq!(last.event, "error");
    assert_eq!(last.data["recoverable"], true);
    assert_eq!(last.data["stage"], "interrupted");

    // The browser that saw events up to the crash resumes after its last id.
    let rest = Sse::open(&server.url(&path), Some(&before.last().unwrap().id))
        .await
        .collect()
        .await;
    assert_sequence(&rest, &id, before.len() as u64 + 1, n);
    // And the pipeline did not start again: nothing but the interruption was added.
    let snapshot = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snapshot["status"], "error");
    assert_eq!(snapshot["lastEventId"], format!("{id}:{n}"));
}

#[tokio::test]
async fn a_published_stream_survives_a_restart_and_its_subscriber_resumes_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::sqlite(dir.path(), &[]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let step = |n: u32| json!({"event": "reasoning-step", "data": {"step": n, "content": format!("step {n}")}});
    let publish = |server: &Server, body: Value| {
        let url = server.url(stream["publishUrl"].as_str().unwrap());
        let token = token.clone();
        async move {
            let res = post_events(&url, &token, &body).await;
            assert_eq!(res.status(), 201);
        }
    };
    // Application events among them: read back after the restart from the stored name.
    let progress = |n: u32| json!({"event": "import.progress", "data": {"done": n}});
    publish(&server, json!({"events": [step(1), progress(2), step(3)]})).await;
    let events_url = format!("/v1/generations/{id}/events");
    let mut sse = Sse::open(&server.url(&events_url), None).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(sse.next_event().await.unwrap());
    }
    assert_sequence(&seen, &id, 1, 3);
    assert_eq!(seen[1].event, "import.progress");

    server.restart_in_place();
    // The subscriber's connection died with the server; it resumes from its last id while the
    // publisher goes on.
    publish(&server, progress(4)).await;
    publish(
        &server,
        json!({"events": [step(5), {"event": "generation-complete", "data": {"success": true, "totalDuration": 9}}]}),
    )
    .await;
    let rest = Sse::open(&server.url(&events_url), Some(&seen[2].id))
        .await
        .collect()
        .await;
    assert_sequence(&rest, &id, 4, 6);
    assert_eq!(
        (rest[0].event.as_str(), &rest[0].data),
        ("import.progress", &json!({"done": 4}))
    );
    assert_eq!(rest[1].data["step"], 5);
    assert_eq!(rest[2].event, "generation-complete");
    // And the finished stream answers a reconnect from its last id with 204.
    let done = Sse::open(&server.url(&events_url), Some(&rest[2].id)).await;
    assert_eq!(done.status, 204);
}

#[tokio::test]
async fn the_openapi_document_is_served_open_and_is_the_committed_one() {
    // Both targets answer docs/openapi.json (which a unit test of ssekit-api keeps equal to what
    // the code generates), so the native server and the Worker serve the same document.
    let server = Server::memory(&[]);
    let res = http()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let served: Value = res.json().await.unwrap();
    let committed: Value =
        serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(served, committed);
    for path in [
        "/v1/generations",
        "/v1/streams/{id}/events",
        "/openapi.json",
    ] {
        assert!(served["paths"][path].is_object(), "{path}");
    }
}

/// A publish with `Idempotency-Key`.
async fn post_keyed(url: &str, token: &str, key: &[u8], body: &Value) -> reqwest::Response {
    let key = reqwest::header::HeaderValue::from_bytes(key).unwrap();
    http()
        .post(url)
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The status, the `Idempotency-Replayed` header and the body of an answer.
async fn keyed_answer(res: reqwest::Response) -> (u16, Option<String>, String) {
    let replayed = res
        .headers()
        .get("idempotency-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), replayed, res.text().await.unwrap())
}

#[tokio::test]
async fn a_publish_retried_with_its_idempotency_key_is_stored_once_and_answered_the_same() {
    let server = Server::memory(&[]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let step = |n: u32| json!({"event": "reasoning-step", "data": {"step": n, "content": format!("step {n}")}});
    let batch = json!({"events": [step(1), {"event": "import.progress", "data": {"done": 1}}]});

    let (status, replayed, first) =
        keyed_answer(post_keyed(&publish, &token, b"order-17", &batch).await).await;
    assert_eq!((status, replayed), (201, None), "{first}");
    let first_body: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        first_body["ids"],
        json!([format!("{id}:1"), format!("{id}:2")])
    );
    // An unkeyed publish between the two: the retry still answers the first answer.
    assert_eq!(post_events(&publish, &token, &step(3)).await.status(), 201);
    let (status, replayed, again) =
        keyed_answer(post_keyed(&publish, &token, b"order-17", &batch).await).await;
    assert_eq!(
        (status, replayed.as_deref(), again.as_str()),
        (201, Some("true"), first.as_str())
    );

    // The same key with other events: refused, nothing stored.
    let res = post_keyed(&publish, &token, b"order-17", &json!({"events": [step(1)]})).await;
    assert_eq!(error_of(res).await, (422, "idempotency_key_reused".into()));
    let res = post_keyed(&publish, &token, b"order-17", &step(9)).await;
    assert_eq!(error_of(res).await, (422, "idempotency_key_reused".into()));

    // Keys are per stream: another stream takes the same key as new.
    let other = create_stream(&server).await;
    let res = post_keyed(
        &server.url(other["publishUrl"].as_str().unwrap()),
        other["publishToken"].as_str().unwrap(),
        b"order-17",
        &batch,
    )
    .await;
    let (status, replayed, body) = keyed_answer(res).await;
    assert_eq!((status, replayed), (201, None));
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["lastEventId"],
        format!("{other_id}:2")
    );

    // A terminal publish retried after the stream ended answers as the first time.
    let end =
        json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 1}});
    let (status, _, first_end) =
        keyed_answer(post_keyed(&publish, &token, b"end", &end).await).await;
    assert_eq!(status, 201, "{first_end}");
    let (status, replayed, again_end) =
        keyed_answer(post_keyed(&publish, &token, b"end", &end).await).await;
    assert_eq!(
        (status, replayed.as_deref(), again_end.as_str()),
        (201, Some("true"), first_end.as_str())
    );
    // A new key on the ended stream: 409 as without a key.
    let res = post_keyed(&publish, &token, b"late", &step(5)).await;
    assert_eq!(error_of(res).await, (409, "stream_finished".into()));

    let events = Sse::open(&server.url(stream["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    assert_sequence(&events, &id, 1, 4);
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_store_the_events_once() {
    let server = Server::memory(&[]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let batch = json!({"events": [
        {"event": "reasoning-step", "data": {"step": 1, "content": "a"}},
        {"event": "reasoning-step", "data": {"step": 2, "content": "b"}}
    ]});
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (publish, token, batch) = (publish.clone(), token.clone(), batch.clone());
        tasks.push(tokio::spawn(async move {
            keyed_answer(post_keyed(&publish, &token, b"once", &batch).await).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|(status, _, _)| *status == 201));
    assert_eq!(
        answers.iter().filter(|(_, r, _)| r.is_none()).count(),
        1,
        "one request stored the events, the others were replays"
    );
    assert!(answers.iter().all(|(_, _, body)| *body == answers[0].2));
    let snapshot = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snapshot["lastEventId"], format!("{id}:2"));
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_refused_with_400_and_stores_nothing() {
    let server = Server::memory(&[]);
    let stream = create_stream(&server).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let step = json!({"event": "reasoning-step", "data": {"step": 1, "content": "x"}});
    let long = vec![b'k'; 256];
    for bad in [&b""[..], &long, b"tab\there", b"with space", b"caf\xc3\xa9"] {
        let res = post_keyed(&publish, &token, bad, &step).await;
        assert_eq!(
            error_of(res).await,
            (400, "invalid_idempotency_key".into()),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // Sent twice.
    let res = http()
        .post(&publish)
        .bearer_auth(&token)
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&step)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (400, "invalid_idempotency_key".into()));
    // The longest and the widest keys are fine.
    let longest = vec![b'~'; 255];
    let visible: Vec<u8> = (0x21..=0x7e).collect();
    for good in [&longest[..], &visible] {
        assert_eq!(
            post_keyed(&publish, &token, good, &step).await.status(),
            201
        );
    }
    // Checked after the publisher and the body: their errors come first.
    let res = post_keyed(&publish, "pub_wrong", b"", &step).await;
    assert_eq!(error_of(res).await.0, 403);
    let res = post_keyed(&publish, &token, b"", &json!({"event": "nope"})).await;
    assert_eq!(error_of(res).await.0, 422);
    let snapshot = get_json(&server.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snapshot["lastEventId"], format!("{id}:2"));
}

#[tokio::test]
async fn an_idempotency_key_still_replays_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::sqlite(dir.path(), &[]);
    let stream = create_stream(&server).await;
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let path = stream["publishUrl"].as_str().unwrap().to_string();
    let body = json!({"event": "import.progress", "data": {"done": 1}});
    let (status, replayed, first) =
        keyed_answer(post_keyed(&server.url(&path), &token, b"k-1", &body).await).await;
    assert_eq!((status, replayed), (201, None));
    server.restart_in_place();
    let (status, replayed, again) =
        keyed_answer(post_keyed(&server.url(&path), &token, b"k-1", &body).await).await;
    assert_eq!(
        (status, replayed.as_deref(), again.as_str()),
        (201, Some("true"), first.as_str())
    );
    let other = json!({"event": "import.progress", "data": {"done": 2}});
    let res = post_keyed(&server.url(&path), &token, b"k-1", &other).await;
    assert_eq!(error_of(res).await, (422, "idempotency_key_reused".into()));
}
