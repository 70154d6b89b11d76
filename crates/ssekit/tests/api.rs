//! The HTTP API of DESIGN §2 where the native server goes beyond the Worker: exec pipelines, the connection limit, metrics. The shared API is in conformance.rs.

mod support;

use serde_json::{json, Value};
use support::*;

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
async fn over_the_connection_limit_streams_get_503_with_retry_after() {
    let server = Server::memory(&["--max-connections", "2"]);
    let stream = create_stream(&server).await;
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
        "ssekit_lagged_subscriber_catch_ups_total",
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
