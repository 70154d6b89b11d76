//! The conformance suite against both stores, and what only SQLite promises.

use std::sync::Arc;

use super::conformance::{meta, progress, step};
use super::*;

macro_rules! suite {
    ($($name:ident),*) => {
        mod memory {
            $(#[tokio::test] async fn $name() {
                super::conformance::$name(std::sync::Arc::new(super::MemoryStore::new(64))).await
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread")] async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let store = super::SqliteStore::open(dir.path().join("s.db"), 64).unwrap();
                super::conformance::$name(std::sync::Arc::new(store)).await
            })*
        }
    };
}

suite!(
    appends_in_order_without_gaps,
    terminal_event_ends_the_stream,
    subscribers_get_live_events_in_order,
    expiry_removes_finished_streams_only,
    concurrent_appends_keep_positions_unique,
    application_events_are_stored_numbered_and_never_terminal,
    append_once_stores_once
);

/// A SQLite store that `before` wrote to, closed and opened again (with the folder that holds
/// it, to keep).
async fn reopened<F: std::future::Future<Output = ()>>(
    before: impl FnOnce(SqliteStore) -> F,
) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    before(SqliteStore::open(&path, 64).unwrap()).await;
    let store = SqliteStore::open(&path, 64).unwrap();
    (dir, store)
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_survives_reopening() {
    let (_dir, store) = reopened(|store| async move {
        store.create(meta("d")).await.unwrap();
        store.append("d", vec![step(1), progress(1)]).await.unwrap();
    })
    .await;
    let events = store.read("d", 0, 10, usize::MAX).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].event().unwrap(), progress(1));
    assert_eq!(store.running().await.unwrap().len(), 1);
    // Positions continue where they were.
    assert_eq!(store.append("d", vec![step(3)]).await.unwrap()[0].seq, 3);
}

/// Idempotency keys are on disk with the events they stored: a retry after a restart replays.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_keeps_idempotency_keys_across_reopening() {
    let (_dir, store) = reopened(|store| async move {
        store.create(meta("d")).await.unwrap();
        let first = store.append_once("d", "k", vec![step(1)]).await.unwrap();
        assert!(!first.replayed);
    })
    .await;
    let again = store.append_once("d", "k", vec![step(1)]).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.events[0].seq, 1);
    assert!(matches!(
        store.append_once("d", "k", vec![step(2)]).await,
        Err(StoreError::KeyReused)
    ));
    assert_eq!(store.meta("d").await.unwrap().last_seq, 1);
}

/// A write that fails halfway through one request (here a trigger refuses the second event of
/// stream "torn", standing in for a full disk) leaves nothing of that request and harms no
/// request committed in the same group.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_a_write_failing_halfway_harms_no_other_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Arc::new(SqliteStore::open(&path, 64).unwrap());
    store.create(meta("torn")).await.unwrap();
    for i in 0..50 {
        store.create(meta(&format!("ok{i}"))).await.unwrap();
    }
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON events
             WHEN NEW.stream = 'torn' AND NEW.seq = 2
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    // Sent together, so the writer takes several into one group.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append(&format!("ok{i}"), vec![step(1), step(2)])
                .await
        }));
    }
    let torn = store.append("torn", vec![step(1), step(2)]).await;
    assert!(matches!(torn, Err(StoreError::Backend(m)) if m.contains("disk full")));
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().len(), 2);
    }
    for i in 0..50 {
        let id = format!("ok{i}");
        assert_eq!(store.read(&id, 0, 10, usize::MAX).await.unwrap().len(), 2);
        assert_eq!(store.meta(&id).await.unwrap().last_seq, 2);
    }
    // Nothing of the torn request stays, and the stream goes on from where it was.
    assert!(store
        .read("torn", 0, 10, usize::MAX)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.meta("torn").await.unwrap().last_seq, 0);
    assert_eq!(store.append("torn", vec![step(1)]).await.unwrap()[0].seq, 1);
}
