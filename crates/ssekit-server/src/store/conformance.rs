//! The suite every store here passes, for a store of your own: the contract of [`Store`] as
//! checks. Each check takes a fresh, empty store; [`all`] runs them in turn. Enable the
//! `conformance` feature (in `[dev-dependencies]`) and call it from a test:
//!
//! ```
//! use std::sync::Arc;
//! use ssekit_server::store::{conformance, MemoryStore};
//!
//! #[tokio::main(flavor = "multi_thread")]
//! async fn main() {
//!     // A test of yours: `MyStore::open(…)` in place of the memory store.
//!     conformance::all(|| Arc::new(MemoryStore::new(64))).await;
//! }
//! ```
//!
//! A check panics (as an assertion in a test does) at the first broken rule.

use std::sync::Arc;

use serde_json::json;
use ssekit_events::{Event, GenerationComplete, ReasoningStep, StreamStatus};

use super::{now_ms, AppendOnce, Appended, Store, StoreError, StoredEvent, StreamKind, StreamMeta};

/// Runs every check, each on a store `new_store` makes (fresh and empty).
pub async fn all(mut new_store: impl FnMut() -> Arc<dyn Store>) {
    appends_in_order_without_gaps(new_store()).await;
    terminal_event_ends_the_stream(new_store()).await;
    subscribers_get_live_events_in_order(new_store()).await;
    expiry_removes_finished_streams_only(new_store()).await;
    concurrent_appends_keep_positions_unique(new_store()).await;
    application_events_are_stored_numbered_and_never_terminal(new_store()).await;
    append_once_stores_once(new_store()).await;
}

pub(super) fn step(n: u32) -> Event {
    Event::ReasoningStep(ReasoningStep {
        step: n,
        content: format!("step {n}"),
    })
}

fn done() -> Event {
    Event::GenerationComplete(GenerationComplete {
        success: true,
        total_duration: 5,
    })
}

pub(super) fn meta(id: &str) -> StreamMeta {
    StreamMeta::new(
        id.into(),
        StreamKind::Generation,
        json!({"topic": "t"}),
        now_ms(),
    )
}

/// Positions 1, 2, 3 … across appends; reads in order, bounded by count and bytes; `Exists`
/// and `NotFound`.
pub async fn appends_in_order_without_gaps(store: Arc<dyn Store>) {
    store.create(meta("s1")).await.unwrap();
    assert!(matches!(
        store.create(meta("s1")).await,
        Err(StoreError::Exists)
    ));
    let a = store.append("s1", vec![step(1), step(2)]).await.unwrap();
    let b = store.append("s1", vec![step(3)]).await.unwrap();
    assert_eq!(
        a.iter().chain(&b).map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let all = store.read("s1", 0, 100, usize::MAX).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        &all[0].frame[..],
        b"event: reasoning-step\ndata: {\"step\":1,\"content\":\"step 1\"}\nid: s1:1\n\n"
    );
    assert_eq!(all[2].event().unwrap(), step(3));
    let tail = store.read("s1", 1, 1, usize::MAX).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    assert!(store
        .read("s1", 3, 10, usize::MAX)
        .await
        .unwrap()
        .is_empty());
    // A page ends once its frames reach the byte bound, and holds one event whatever its size.
    let seqs = |page: Vec<Arc<StoredEvent>>| page.iter().map(|e| e.seq).collect::<Vec<_>>();
    let len = all[0].frame.len();
    assert_eq!(
        seqs(store.read("s1", 0, 100, len + 1).await.unwrap()),
        [1, 2]
    );
    assert_eq!(seqs(store.read("s1", 0, 100, len).await.unwrap()), [1]);
    assert_eq!(seqs(store.read("s1", 0, 100, 0).await.unwrap()), [1]);
    assert_eq!(store.meta("s1").await.unwrap().last_seq, 3);
    assert!(matches!(
        store.append("nope", vec![step(1)]).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.meta("nope").await,
        Err(StoreError::NotFound)
    ));
}

/// A terminal event ends the stream: nothing after it, in the same append or a later one.
pub async fn terminal_event_ends_the_stream(store: Arc<dyn Store>) {
    store.create(meta("s2")).await.unwrap();
    // Nothing may follow a terminal event, not even in the same batch: the whole batch is refused.
    assert!(matches!(
        store.append("s2", vec![done(), step(1)]).await,
        Err(StoreError::Finished)
    ));
    assert!(store
        .read("s2", 0, 10, usize::MAX)
        .await
        .unwrap()
        .is_empty());
    let stored = store.append("s2", vec![step(1), done()]).await.unwrap();
    assert!(stored[1].terminal);
    assert!(matches!(
        store.append("s2", vec![step(2)]).await,
        Err(StoreError::Finished)
    ));
    let m = store.meta("s2").await.unwrap();
    assert_eq!((m.status, m.last_seq), (StreamStatus::Complete, 2));
    assert!(m.finished_at.is_some());
    assert!(store.running().await.unwrap().iter().all(|m| m.id != "s2"));
}

/// Every subscriber gets each append, in order, then the end after the terminal event.
pub async fn subscribers_get_live_events_in_order(store: Arc<dyn Store>) {
    store.create(meta("s3")).await.unwrap();
    let mut a = store.subscribe("s3");
    let mut b = store.subscribe("s3");
    store.append("s3", vec![step(1), step(2)]).await.unwrap();
    store.append("s3", vec![done()]).await.unwrap();
    for rx in [&mut a, &mut b] {
        // One ring entry per append, its events in order.
        let seqs = |batch: Appended| batch.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(rx.recv().await.unwrap()), [1, 2]);
        assert_eq!(seqs(rx.recv().await.unwrap()), [3]);
        // After the terminal event the ring is dropped: the subscriber sees the end.
        assert!(rx.recv().await.is_err());
    }
}

/// `expire` removes streams finished before the time given, and only those.
pub async fn expiry_removes_finished_streams_only(store: Arc<dyn Store>) {
    store.create(meta("old")).await.unwrap();
    store.create(meta("live")).await.unwrap();
    store.append("old", vec![done()]).await.unwrap();
    store.append("live", vec![step(1)]).await.unwrap();
    assert_eq!(store.expire(now_ms() + 1000).await.unwrap(), 1);
    assert!(matches!(store.meta("old").await, Err(StoreError::Expired)));
    assert!(matches!(
        store.read("old", 0, 10, usize::MAX).await,
        Err(StoreError::Expired)
    ));
    assert_eq!(store.meta("live").await.unwrap().last_seq, 1);
    assert_eq!(store.expire(now_ms() + 1000).await.unwrap(), 0);
}

/// Appends from many tasks at once get unique, gapless positions.
pub async fn concurrent_appends_keep_positions_unique(store: Arc<dyn Store>) {
    store.create(meta("s5")).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                store.append("s5", vec![step(t * 100 + i)]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = store.read("s5", 0, 1000, usize::MAX).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=400).collect::<Vec<_>>()
    );
}

pub(super) fn progress(done: u32) -> Event {
    Event::app("import.progress", json!({"done": done, "total": 3})).unwrap()
}

/// Application events are stored, numbered, read back and delivered like the others, and
/// never end a stream.
pub async fn application_events_are_stored_numbered_and_never_terminal(store: Arc<dyn Store>) {
    store.create(meta("s6")).await.unwrap();
    let mut live = store.subscribe("s6");
    let odd = Event::app("import.note", json!(["a", 1, null])).unwrap();
    let stored = store
        .append("s6", vec![progress(1), step(1), odd.clone(), progress(2)])
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(stored.iter().all(|e| !e.terminal));
    assert_eq!(
        store.meta("s6").await.unwrap().status,
        StreamStatus::Running
    );
    // An application event may not follow the terminal event either.
    assert!(matches!(
        store.append("s6", vec![done(), progress(3)]).await,
        Err(StoreError::Finished)
    ));
    store.append("s6", vec![progress(3), done()]).await.unwrap();

    let all = store.read("s6", 0, 100, usize::MAX).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        &all[0].frame[..],
        b"event: import.progress\ndata: {\"done\":1,\"total\":3}\nid: s6:1\n\n"
    );
    assert_eq!(all[0].kind.as_str(), "import.progress");
    assert_eq!(&all[2].data[..], br#"["a",1,null]"#);
    assert_eq!(all[2].event().unwrap(), odd);
    assert_eq!(all[4].event().unwrap(), progress(3));
    // Read back (for SQLite: from the name text) exactly as it was appended.
    for (read, appended) in all.iter().zip(stored.iter()) {
        assert_eq!((&read.frame, &read.kind), (&appended.frame, &appended.kind));
    }
    let rest = store.read("s6", 2, 100, usize::MAX).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5, 6]);
    let seqs = |batch: Appended| batch.iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(seqs(live.recv().await.unwrap()), [1, 2, 3, 4]);
    assert_eq!(seqs(live.recv().await.unwrap()), [5, 6]);
    let m = store.meta("s6").await.unwrap();
    assert_eq!((m.status, m.last_seq), (StreamStatus::Complete, 6));
}

/// `append_once`: a key stores its events once per stream; a retry with the same events appends
/// nothing and returns what the first stored (after the stream ended too); other events under
/// the key are refused; racing retries store once; keys of one stream say nothing of another's.
pub async fn append_once_stores_once(store: Arc<dyn Store>) {
    let seqs = |r: &AppendOnce| r.events.iter().map(|e| e.seq).collect::<Vec<_>>();
    store.create(meta("k1")).await.unwrap();
    let mut live = store.subscribe("k1");
    let first = store
        .append_once("k1", "key-a", vec![step(1), progress(1)])
        .await
        .unwrap();
    assert!(!first.replayed);
    assert_eq!(seqs(&first), [1, 2]);
    store.append("k1", vec![step(3)]).await.unwrap();
    let again = store
        .append_once("k1", "key-a", vec![step(1), progress(1)])
        .await
        .unwrap();
    assert!(again.replayed, "the same key and events: a replay");
    assert_eq!(seqs(&again), [1, 2]);
    for (a, b) in first.events.iter().zip(&again.events) {
        assert_eq!((&a.frame, a.terminal), (&b.frame, b.terminal));
    }
    // Other events under the key, fewer or more of them too: refused, nothing stored.
    for other in [
        vec![step(2), progress(1)],
        vec![step(1)],
        vec![step(1), progress(1), step(1)],
    ] {
        assert!(matches!(
            store.append_once("k1", "key-a", other).await,
            Err(StoreError::KeyReused)
        ));
    }
    assert_eq!(store.meta("k1").await.unwrap().last_seq, 3);
    // The replay reached no subscriber: the next append is the next thing they see.
    store.append("k1", vec![step(4)]).await.unwrap();
    let got = |batch: Appended| batch.iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(got(live.recv().await.unwrap()), [1, 2]);
    assert_eq!(got(live.recv().await.unwrap()), [3]);
    assert_eq!(got(live.recv().await.unwrap()), [4]);

    // Keys are per stream.
    store.create(meta("k2")).await.unwrap();
    let other = store
        .append_once("k2", "key-a", vec![step(9)])
        .await
        .unwrap();
    assert!(!other.replayed);
    assert_eq!(seqs(&other), [1]);

    // Retries racing each other store once, and all answer the same positions.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_once("k2", "race", vec![step(10), step(11)])
                .await
                .unwrap()
        }));
    }
    let mut fresh = 0;
    for t in tasks {
        let r = t.await.unwrap();
        fresh += usize::from(!r.replayed);
        assert_eq!(seqs(&r), [2, 3]);
    }
    assert_eq!(fresh, 1, "one of the racing retries stored the events");
    assert_eq!(store.read("k2", 0, 100, usize::MAX).await.unwrap().len(), 3);

    // A terminal batch under a key replays after the stream ended; a new key is refused.
    let end = store.append_once("k2", "end", vec![done()]).await.unwrap();
    assert_eq!(seqs(&end), [4]);
    let end_again = store.append_once("k2", "end", vec![done()]).await.unwrap();
    assert!(end_again.replayed);
    assert_eq!(seqs(&end_again), [4]);
    assert!(end_again.events[0].terminal);
    assert!(matches!(
        store.append_once("k2", "late", vec![step(12)]).await,
        Err(StoreError::Finished)
    ));
    // A refused append stores no key: the stream had ended, and still has.
    assert!(matches!(
        store.append_once("k2", "late", vec![step(12)]).await,
        Err(StoreError::Finished)
    ));
    assert!(matches!(
        store.append_once("nope", "key-a", vec![step(1)]).await,
        Err(StoreError::NotFound)
    ));
    // Nothing may follow a terminal event, with a key as without.
    assert!(matches!(
        store.append_once("k1", "bad", vec![done(), step(1)]).await,
        Err(StoreError::Finished)
    ));
    // Expiry takes a stream's keys with its events.
    assert_eq!(store.expire(now_ms() + 1000).await.unwrap(), 1);
    assert!(matches!(
        store.append_once("k2", "end", vec![done()]).await,
        Err(StoreError::Expired)
    ));
}
