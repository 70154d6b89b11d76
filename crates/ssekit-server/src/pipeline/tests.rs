use std::time::Duration;

use ssekit_events::StreamStatus;

use super::*;
use crate::store::faulty::Faulty;
use crate::store::Store as _;
use crate::{open_store, StoreConfig};

fn sqlite_state(path: &std::path::Path) -> AppState {
    let config = Config {
        store: StoreConfig::Sqlite(path.to_owned()),
        ..Config::default()
    };
    AppState::new(config.clone(), open_store(&config).unwrap())
}

fn demo(delay_ms: u64) -> GenerationSpec {
    GenerationSpec {
        topic: "t".into(),
        pipeline: "demo".into(),
        blocks: 3,
        delay_ms,
        request: Default::default(),
    }
}

async fn finished(state: &AppState, id: &str) -> StreamMeta {
    for _ in 0..500 {
        let meta = state.store.meta(id).await.unwrap();
        if meta.status != StreamStatus::Running {
            return meta;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the generation did not end");
}

#[tokio::test]
async fn every_emitted_event_is_stored_in_order_and_the_stream_ends() {
    let dir = tempfile::tempdir().unwrap();
    let state = sqlite_state(&dir.path().join("s.db"));
    let spec = demo(0);
    let id = start(&state, spec).await.unwrap();
    let meta = finished(&state, &id).await;
    let events = state.store.read(&id, 0, 1000, usize::MAX).await.unwrap();
    assert_eq!(events.len() as u64, ssekit_demo::event_count(3));
    assert_eq!(meta.last_seq, events.len() as u64);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    assert_eq!(events.last().unwrap().kind.as_str(), "generation-complete");
}

#[tokio::test]
async fn a_failing_store_stops_the_pipeline_and_ends_its_stream_with_a_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let state = sqlite_state(&path);
    // A full disk from the third event on, for everything but an error event.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON events
             WHEN NEW.seq >= 3 AND NEW.name <> 'error'
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let spec = demo(1);
    let id = start(&state, spec).await.unwrap();
    finished(&state, &id).await;
    let events = state.store.read(&id, 0, 1000, usize::MAX).await.unwrap();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    let last = events.last().unwrap();
    assert_eq!(last.kind.as_str(), "error");
    assert!(last.terminal);
    let data: serde_json::Value = serde_json::from_slice(&last.data).unwrap();
    assert_eq!(data["stage"], "store");
    assert!(
        events.len() <= 3,
        "nothing refused was stored: {}",
        events.len()
    );
}

#[tokio::test]
async fn exec_pipelines_may_emit_application_events_and_still_end_only_on_a_terminal_one() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("import.sh");
    // An import: no blocks, no HTML; its own progress events between built-in ones. An event
    // shaped like a terminal one, under an application name, ends nothing; a dotless unknown
    // name and an uppercase one are refused as before, as recoverable errors.
    std::fs::write(
        &script,
        r#"echo '{"event":"reasoning-start","data":{"model":"importer"}}'
echo '{"event":"import.progress","data":{"done":1,"total":2}}'
echo '{"event":"import.error","data":{"message":"row 7","stage":"x","recoverable":false}}'
echo '{"event":"import.rows","data":[["a",1],["b",2]]}'
echo '{"event":"progress","data":{"done":2}}'
echo '{"event":"Import.progress","data":{"done":2}}'
echo '{"event":"import.progress","data":{"done":2,"total":2}}'
"#,
    )
    .unwrap();
    let mut config = Config {
        store: StoreConfig::Memory,
        ..Config::default()
    };
    config
        .exec_pipelines
        .insert("import".into(), format!("sh {}", script.display()));
    let state = AppState::new(config.clone(), open_store(&config).unwrap());
    let spec = GenerationSpec {
        pipeline: "import".into(),
        ..demo(0)
    };
    let id = start(&state, spec).await.unwrap();
    let meta = finished(&state, &id).await;
    assert_eq!(meta.status, StreamStatus::Complete);
    let events = state.store.read(&id, 0, 1000, usize::MAX).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        names,
        [
            "reasoning-start",
            "import.progress",
            "import.error",
            "import.rows",
            "error",
            "error",
            "import.progress",
            "generation-complete"
        ]
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.terminal, i == events.len() - 1);
    }
    assert_eq!(&events[1].data[..], br#"{"done":1,"total":2}"#);
    assert_eq!(&events[3].data[..], br#"[["a",1],["b",2]]"#);
    for refused in &events[4..6] {
        let data: serde_json::Value = serde_json::from_slice(&refused.data).unwrap();
        assert_eq!(data["recoverable"], true);
        let message = data["message"].as_str().unwrap();
        assert!(message.contains("namespace.name"), "{message}");
    }
}

#[tokio::test]
async fn a_pipeline_that_lost_ownership_stops_without_writing_anything() {
    use std::sync::atomic::Ordering;
    let (state, store) = Faulty::state();
    let id = start(&state, demo(20)).await.unwrap();
    // Let it store a few events, then lose the generation.
    for _ in 0..200 {
        if store.inner.meta(&id).await.unwrap().last_seq >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    store.lost.store(true, Ordering::SeqCst);
    let before = store.inner.meta(&id).await.unwrap().last_seq;
    for _ in 0..500 {
        if state.runner.running.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        state.runner.running.lock().unwrap().is_empty(),
        "the pipeline stopped"
    );
    let attempts = store.appends.load(Ordering::SeqCst);
    // No fatal `store` error was attempted after the refusal: the refused append was the last.
    let meta = store.inner.meta(&id).await.unwrap();
    assert_eq!(meta.status, StreamStatus::Running, "nothing ended it here");
    assert_eq!(meta.last_seq, before);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.appends.load(Ordering::SeqCst), attempts);
}

#[tokio::test]
async fn the_sweep_runs_every_sweep_every_and_survives_failures() {
    use std::sync::atomic::Ordering;
    let (state, store) = Faulty::state();
    let sweep = tokio::spawn(sweep_loop(state.clone(), Duration::from_millis(20)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        store.sweeps.load(Ordering::SeqCst) >= 4,
        "swept on every tick, failures too"
    );
    state.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(1), sweep)
        .await
        .expect("the sweep stops at shutdown")
        .unwrap();
}
