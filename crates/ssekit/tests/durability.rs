//! DESIGN §5: streams survive `kill -9`; a generation whose server died ends with a recoverable error.

mod support;

use support::*;

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
    let snapshot: serde_json::Value = http()
        .get(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["status"], "error");
    assert_eq!(snapshot["lastEventId"], format!("{id}:{n}"));
}

#[tokio::test]
async fn finished_streams_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::sqlite(dir.path(), &[]);
    let created = create(&server, 2, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let first = Sse::open(&server.url(&path), None).await.collect().await;
    server.restart();
    let again = Sse::open(&server.url(&path), None).await.collect().await;
    assert_sequence(&again, &id, 1, demo_events(2));
    assert_eq!(first.len(), again.len());
    assert_eq!(again.last().unwrap().event, "generation-complete");
}

#[tokio::test]
async fn sigterm_ends_running_generations_with_a_recoverable_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::sqlite(dir.path(), &[]);
    let created = create(&server, 6, 100).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let mut sse = Sse::open(&server.url(&path), None).await;
    sse.next_event().await.unwrap();
    assert!(server.terminate().success());
    server.restart();
    let all = Sse::open(&server.url(&path), None).await.collect().await;
    assert_sequence(&all, &id, 1, all.len() as u64);
    let last = all.last().unwrap();
    assert_eq!(
        (last.event.as_str(), &last.data["stage"]),
        ("error", &serde_json::json!("interrupted"))
    );
}

#[tokio::test]
async fn finished_streams_expire_after_the_retention() {
    let server = Server::memory(&["--retention", "1s"]);
    let created = create(&server, 1, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    Sse::open(&url, None).await.collect().await;
    let mut status = 0;
    for _ in 0..100 {
        status = http()
            .get(server.url(&format!("/v1/generations/{id}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 410 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 410);
    let res = http().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 410);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "expired");
}
