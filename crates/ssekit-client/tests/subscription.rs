//! The subscription against a real HTTP server on loopback whose every response the test writes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ssekit_client::{Backoff, ClientError, Options, Subscription, Update};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `responses` in order, one per connection, and records each request head.
async fn server(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/generations/g/events",
        listener.local_addr().unwrap()
    );
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        for response in responses {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut b = [0u8; 1];
                if s.read(&mut b).await.unwrap() == 0 {
                    break;
                }
                head.push(b[0]);
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).to_lowercase());
            s.write_all(response.as_bytes()).await.unwrap();
            s.shutdown().await.unwrap();
        }
    });
    (url, heads)
}

fn sse(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}")
}

fn event(id: &str, name: &str, data: &str) -> String {
    format!("id: {id}\nevent: {name}\ndata: {data}\n\n")
}

fn step(seq: u32) -> String {
    event(
        &format!("g:{seq}"),
        "reasoning-step",
        &format!("{{\"step\":{seq},\"content\":\"s\"}}"),
    )
}

fn fast() -> Options {
    Options {
        backoff: Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            2.0,
            0.0,
        )
        .unwrap(),
        ..Options::default()
    }
}

async fn drain(sub: &mut Subscription) -> Vec<Result<Update, ClientError>> {
    let mut out = Vec::new();
    while let Some(u) = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap()
    {
        out.push(u);
    }
    out
}

fn seqs(updates: &[Result<Update, ClientError>]) -> Vec<u64> {
    updates
        .iter()
        .filter_map(|u| match u {
            Ok(Update::Event(e)) => Some(e.id.seq()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn resumes_after_a_drop_with_last_event_id_and_drops_duplicates() {
    let done = event(
        "g:3",
        "generation-complete",
        r#"{"success":true,"totalDuration":1}"#,
    );
    let (url, heads) = server(vec![
        sse(&format!("retry: 10\n\n{}{}", step(1), step(2))),
        sse(&format!("{}{}", step(2), done)),
    ])
    .await;
    let mut sub = Subscription::new(url, fast());
    let updates = drain(&mut sub).await;
    assert_eq!(seqs(&updates), [1, 2, 3]);
    let reconnects: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            Ok(Update::Reconnecting { after, delay, .. }) => Some((after.clone(), *delay)),
            _ => None,
        })
        .collect();
    // The server's retry hint sets the first delay.
    assert_eq!(
        reconnects,
        [(Some("g:2".to_owned()), Duration::from_millis(10))]
    );
    let heads = heads.lock().unwrap();
    assert!(!heads[0].contains("last-event-id"));
    assert!(heads[1].contains("last-event-id: g:2"), "{}", heads[1]);
    assert!(heads[1].contains("accept: text/event-stream"));
}

#[tokio::test]
async fn a_token_goes_as_a_bearer_on_the_first_request_and_every_reconnect() {
    let done = event(
        "g:2",
        "generation-complete",
        r#"{"success":true,"totalDuration":1}"#,
    );
    let (url, heads) = server(vec![sse(&step(1)), sse(&done)]).await;
    let options = Options {
        token: Some("t0k.en".into()),
        ..fast()
    };
    assert!(!format!("{options:?}").contains("t0k.en"), "Debug hides it");
    let mut sub = Subscription::new(url, options);
    assert_eq!(seqs(&drain(&mut sub).await), [1, 2]);
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 2);
    for head in heads.iter() {
        assert!(head.contains("authorization: bearer t0k.en"), "{head}");
    }
    assert!(heads[1].contains("last-event-id: g:1"));
}

#[tokio::test]
async fn stops_on_204() {
    let (url, _) = server(vec!["HTTP/1.1 204 No Content\r\n\r\n".into()]).await;
    let mut sub = Subscription::new(
        url,
        Options {
            last_event_id: Some("g:9".into()),
            ..fast()
        },
    );
    assert!(drain(&mut sub).await.is_empty());
}

#[tokio::test]
async fn a_4xx_ends_with_the_servers_error() {
    let body = r#"{"error":{"code":"expired","message":"gone"}}"#;
    let (url, heads) = server(vec![format!(
        "HTTP/1.1 410 Gone\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )])
    .await;
    let mut sub = Subscription::new(url, fast());
    let updates = drain(&mut sub).await;
    assert!(
        matches!(&updates[..], [Err(ClientError::Refused { status: 410, code, .. })] if code == "expired")
    );
    assert_eq!(heads.lock().unwrap().len(), 1, "no retry after a 4xx");
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_counts_reset_on_events() {
    let unavailable = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n".to_string();
    // One event, then three failures in a row (allowed), then a fourth (too many).
    let (url, heads) = server(vec![
        unavailable.clone(),
        sse(&step(1)),
        unavailable.clone(),
        unavailable.clone(),
        unavailable.clone(),
    ])
    .await;
    let mut sub = Subscription::new(url, fast());
    let updates = drain(&mut sub).await;
    assert_eq!(seqs(&updates), [1]);
    assert!(matches!(
        updates.last(),
        Some(Err(ClientError::GaveUp { attempts: 3, .. }))
    ));
    assert_eq!(heads.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn unknown_events_are_reported_without_ending_the_stream() {
    let done = event(
        "g:3",
        "generation-complete",
        r#"{"success":true,"totalDuration":1}"#,
    );
    let (url, _) = server(vec![sse(&format!(
        "{}{}{}",
        step(1),
        event("g:2", "mystery", "{}"),
        done
    ))])
    .await;
    let mut sub = Subscription::new(url, fast());
    let updates = drain(&mut sub).await;
    assert_eq!(seqs(&updates), [1, 3]);
    assert!(updates
        .iter()
        .any(|u| matches!(u, Err(ClientError::InvalidEvent { id, .. }) if id == "g:2")));
}

#[tokio::test]
async fn application_events_arrive_in_order_are_resumed_after_and_end_nothing() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Progress {
        done: u32,
        total: u32,
    }
    let progress = |seq: u32, done: u32| {
        event(
            &format!("g:{seq}"),
            "import.progress",
            &format!(r#"{{"done":{done},"total":2}}"#),
        )
    };
    // Shaped like a terminal error, but an application's: the subscription goes on.
    let lookalike = event(
        "g:3",
        "import.error",
        r#"{"message":"m","stage":"s","recoverable":false}"#,
    );
    let done = event(
        "g:5",
        "generation-complete",
        r#"{"success":true,"totalDuration":1}"#,
    );
    let (url, heads) = server(vec![
        sse(&format!("{}{}{lookalike}", progress(1, 1), step(2))),
        sse(&format!("{lookalike}{}{done}", progress(4, 2))),
    ])
    .await;
    let mut sub = Subscription::new(url, fast());
    let updates = drain(&mut sub).await;
    assert_eq!(seqs(&updates), [1, 2, 3, 4, 5]);
    assert!(heads.lock().unwrap()[1].contains("last-event-id: g:3"));
    let events: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            Ok(Update::Event(e)) => Some(e),
            _ => None,
        })
        .collect();
    assert!(
        matches!(&events[0].event, ssekit_events::Event::App(a) if a.name == "import.progress")
    );
    assert_eq!(
        events[3]
            .app::<Progress>("import.progress")
            .unwrap()
            .unwrap(),
        Progress { done: 2, total: 2 }
    );
    assert!(events[1].app::<Progress>("import.progress").is_none());
    assert!(events[2].app::<Progress>("import.progress").is_none());
    let error = events[2]
        .app::<serde_json::Value>("import.error")
        .unwrap()
        .unwrap();
    assert_eq!(error["recoverable"], false);
}
