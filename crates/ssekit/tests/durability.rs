//! DESIGN §5 on the native server: finished streams survive restarts, SIGTERM ends generations, retention. (kill -9 mid-generation is in conformance.rs.)

mod support;

use support::*;

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
