//! The HTTP API of DESIGN §2: cancel, snapshot, publish, exec pipelines, CORS, bad input.

mod support;

use serde_json::{json, Value};
use support::*;

async fn error_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["error"]["code"].as_str().unwrap().to_string())
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
    let snap: Value = http()
        .get(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let snap: Value = http()
        .get(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let res = http()
        .post(server.url("/v1/streams"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let stream: Value = res.json().await.unwrap();
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = server.url(stream["publishUrl"].as_str().unwrap());
    let step = json!({"event": "reasoning-step", "data": {"step": 1, "content": "thinking"}});

    let res = http().post(&publish).json(&step).send().await.unwrap();
    assert_eq!(error_of(res).await, (401, "unauthorized".into()));
    let res = http()
        .post(&publish)
        .bearer_auth("pub_wrong")
        .json(&step)
        .send()
        .await
        .unwrap();
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
        let res = http()
            .post(&publish)
            .bearer_auth(&token)
            .json(&bad)
            .send()
            .await
            .unwrap();
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

    let res = http()
        .post(&publish)
        .bearer_auth(&token)
        .json(&step)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["lastEventId"], format!("{id}:1"));
    let batch = json!({"events": [
        {"event": "block-content", "data": {"blockIndex": 0, "html": "<p onclick=\"x()\">hi</p><script>bad()</script>"}},
        {"event": "generation-complete", "data": {"success": true, "totalDuration": 3}}
    ]});
    let res = http()
        .post(&publish)
        .bearer_auth(&token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["ids"], json!([format!("{id}:2"), format!("{id}:3")]));

    let res = http()
        .post(&publish)
        .bearer_auth(&token)
        .json(&step)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (409, "stream_finished".into()));

    let events = Sse::open(&server.url(stream["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    assert_sequence(&events, &id, 1, 3);
    assert_eq!(events[1].data["html"], "<p>hi</p>");
}

fn write_script(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    format!("sh {}", path.display())
}

#[tokio::test]
async fn exec_pipelines_stream_a_commands_output() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_script(
        dir.path(),
        "good.sh",
        r#"read -r request
echo '{"event":"generation-start","data":{"sessionId":"s","totalBlocks":1,"model":"sh"}}'
echo '{"event":"block-start","data":{"blockIndex":0,"blockId":"b","title":"From sh"}}'
echo "$request" | grep -q '"topic":"scripted"' && echo '{"event":"block-content","data":{"blockIndex":0,"html":"<p>saw topic</p>"}}'
echo '{"event":"block-complete","data":{"blockIndex":0,"blockId":"b"}}'
"#,
    );
    let invalid = write_script(
        dir.path(),
        "invalid.sh",
        r#"echo '{"event":"generation-start","data":{"sessionId":"s","totalBlocks":1,"model":"sh"}}'
echo 'this is not json'
echo '{"event":"no-such-event","data":{}}'
echo '{"event":"generation-complete","data":{"success":true,"totalDuration":1}}'
"#,
    );
    let failing = write_script(
        dir.path(),
        "fail.sh",
        "echo '{\"event\":\"generation-start\",\"data\":{\"sessionId\":\"s\",\"totalBlocks\":1,\"model\":\"sh\"}}'\nexit 1\n",
    );
    let slow = write_script(
        dir.path(),
        "slow.sh",
        "echo '{\"event\":\"reasoning-start\",\"data\":{\"model\":\"sh\"}}'\nsleep 60 & wait\n",
    );
    let server = Server::memory(&[
        "--exec",
        &format!("good={good}"),
        "--exec",
        &format!("invalid={invalid}"),
        "--exec",
        &format!("failing={failing}"),
        "--exec",
        &format!("slow={slow}"),
    ]);
    let run = |pipeline: &'static str| {
        let server_url = server.url("/v1/generations");
        let base = server.base.clone();
        async move {
            let res = http()
                .post(server_url)
                .json(&json!({"topic": "scripted", "pipeline": pipeline}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            let created: Value = res.json().await.unwrap();
            let events = Sse::open(
                &format!("{base}{}", created["eventsUrl"].as_str().unwrap()),
                None,
            )
            .await
            .collect()
            .await;
            events
                .into_iter()
                .map(|e| (e.event, e.data))
                .collect::<Vec<_>>()
        }
    };

    let good = run("good").await;
    let names: Vec<&str> = good.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "generation-start",
            "block-start",
            "block-content",
            "block-complete",
            "generation-complete"
        ]
    );
    assert_eq!(good[4].1["success"], true);

    let invalid = run("invalid").await;
    let names: Vec<&str> = invalid.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["generation-start", "error", "error", "generation-complete"]
    );
    assert_eq!(invalid[1].1["recoverable"], true);
    assert_eq!(invalid[2].1["recoverable"], true);

    let failing = run("failing").await;
    let (name, data) = failing.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(data["recoverable"], false);

    // Cancel stops the command (and the children it started).
    let res = http()
        .post(server.url("/v1/generations"))
        .json(&json!({"topic": "t", "pipeline": "slow"}))
        .send()
        .await
        .unwrap();
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let mut sse = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    assert_eq!(sse.next_event().await.unwrap().event, "reasoning-start");
    http()
        .delete(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap();
    let rest = sse.collect().await;
    assert_eq!(rest.last().unwrap().data["stage"], "cancelled");

    let res = http()
        .post(server.url("/v1/generations"))
        .json(&json!({"topic": "t", "pipeline": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (422, "unknown_pipeline".into()));
}

#[tokio::test]
async fn cors_preflight_allows_last_event_id_and_origins_are_configurable() {
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
async fn over_the_connection_limit_streams_get_503_with_retry_after() {
    let server = Server::memory(&["--max-connections", "2"]);
    let stream: Value = http()
        .post(server.url("/v1/streams"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = server.url(stream["eventsUrl"].as_str().unwrap());
    let _a = Sse::open(&url, None).await;
    let _b = Sse::open(&url, None).await;
    let res = http().get(&url).send().await.unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(error_of(res).await, (503, "too_many_connections".into()));
}

#[tokio::test]
async fn health_metrics_and_demo_page() {
    let server = Server::memory(&[]);
    let res = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let metrics = http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "ssekit_connections",
        "ssekit_events_appended_total",
        "ssekit_events_delivered_total",
        "ssekit_resumes_total",
        "ssekit_slow_subscriber_disconnects_total",
        "ssekit_pipeline_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(name), "{name} missing from {metrics}");
    }
    let page = http().get(server.url("/")).send().await.unwrap();
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    for asset in ["/assets/ssekit.js", "/assets/demo.js", "/assets/ssekit.css"] {
        assert_eq!(
            http().get(server.url(asset)).send().await.unwrap().status(),
            200,
            "{asset}"
        );
    }
}
