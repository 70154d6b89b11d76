//! The publish API's body: any bytes give events or a 4xx, never a panic. Accepted events obey
//! the batch rules, go on the wire as exactly one SSE event each (no field injected), and
//! publishing them again changes nothing (the sanitizer is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssekit_api::{publish_events, MAX_BATCH};
use ssekit_protocol::{encode_event, Item, Parser};

fuzz_target!(|body: &[u8]| {
    let events = match publish_events(body) {
        Ok(events) => events,
        Err(e) => {
            assert!(e.status().is_client_error(), "{e:?}");
            return;
        }
    };
    assert!(!events.is_empty() && events.len() <= MAX_BATCH);
    assert!(events.iter().rev().skip(1).all(|e| !e.is_terminal()));
    let mut wire = Vec::new();
    let mut republish = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let data = event.data_json();
        encode_event(
            &mut wire,
            Some(&format!("str_a:{}", i + 1)),
            Some(event.name()),
            &data,
        )
        .unwrap();
        republish.push(format!(r#"{{"event":{:?},"data":{data}}}"#, event.name()));
    }
    let parsed: Vec<_> = Parser::new()
        .push(&wire)
        .into_iter()
        .map(|item| match item {
            Item::Event(e) => (e.event, e.data),
            other => panic!("{other:?} on the wire"),
        })
        .collect();
    let sent: Vec<_> = events
        .iter()
        .map(|e| (e.name().to_owned(), e.data_json()))
        .collect();
    assert_eq!(parsed, sent);
    let body = format!(r#"{{"events":[{}]}}"#, republish.join(","));
    let again = publish_events(body.as_bytes()).expect("accepted events are accepted again");
    assert_eq!(again, events);
});
