//! The redis store on a real `redis-server` this test starts (`ssekit_testkit::redis`: AOF with
//! `appendfsync always`, a free port, a temporary folder) and on a 3-master Redis Cluster: the
//! store suite, and what only a shared store has to keep (several instances, leases, lost
//! pub/sub messages).
//!
//! They fail, saying why, when `redis-server` is not installed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use ssekit_events::{ErrorEvent, Event, GenerationComplete, ReasoningStep, STAGE_INTERRUPTED};
use ssekit_server::store::{
    conformance, now_ms, RedisOptions, RedisStore, Store, StoreError, StreamKind, StreamMeta,
};
use ssekit_testkit::redis::{cli, Redis, RedisCluster};

fn options(prefix: &str, lease: Duration) -> RedisOptions {
    RedisOptions {
        buffer: 4096,
        lease,
        retention: Duration::from_secs(3600),
        prefix: prefix.into(),
    }
}

fn single(server: &Redis, prefix: &str, lease: Duration) -> Arc<RedisStore> {
    Arc::new(RedisStore::open(&server.url(), options(prefix, lease)).unwrap())
}

fn step(n: u32) -> Event {
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

fn interrupted() -> Event {
    Event::Error(ErrorEvent {
        message: "the server running it stopped".into(),
        stage: STAGE_INTERRUPTED.into(),
        recoverable: true,
    })
}

fn meta(id: &str, kind: StreamKind) -> StreamMeta {
    StreamMeta::new(id.into(), kind, json!({"topic": "t"}), now_ms())
}

async fn seqs(store: &dyn Store, id: &str) -> Vec<u64> {
    store
        .read(id, 0, 100_000, usize::MAX)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_suite_passes_on_one_redis() {
    let server = Redis::start(None, &[]);
    let mut n = 0;
    conformance::all(|| {
        n += 1;
        // A prefix per check: each gets a fresh, empty store.
        single(&server, &format!("suite{n}"), Duration::from_secs(10)) as Arc<dyn Store>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_suite_passes_on_a_cluster() {
    let cluster = RedisCluster::start(&[]);
    let urls = cluster.urls();
    let mut n = 0;
    conformance::all(|| {
        n += 1;
        let store = RedisStore::open_cluster(
            &urls,
            options(&format!("suite{n}"), Duration::from_secs(10)),
        );
        Arc::new(store.unwrap()) as Arc<dyn Store>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_through_two_instances_stay_gapless() {
    let server = Redis::start(None, &[]);
    let a = single(&server, "two", Duration::from_secs(10));
    let b = single(&server, "two", Duration::from_secs(10));
    a.create(meta("p", StreamKind::Published)).await.unwrap();
    let mut tasks = Vec::new();
    for (t, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                store
                    .append("p", vec![step(t as u32 * 1000 + i), step(i)])
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(seqs(&*b, "p").await, (1..=800).collect::<Vec<_>>());
    assert_eq!(a.meta("p").await.unwrap().last_seq, 800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zombie_owner_is_refused_and_an_expired_lease_is_ended_once() {
    let server = Redis::start(None, &[]);
    let lease = Duration::from_millis(900);
    let owner = single(&server, "own", lease);
    owner
        .create(meta("g", StreamKind::Generation))
        .await
        .unwrap();
    owner.append("g", vec![step(1)]).await.unwrap();
    // Another instance's append is not an owner append: it is not refused.
    let other = single(&server, "own", lease);
    other.append("g", vec![step(2)]).await.unwrap();
    // The owner is paused past its lease (as under SIGSTOP): its next append is refused.
    server.cli(&["HSET", "own:{g}:meta", "deadline", "1"]);
    assert!(matches!(
        owner.append("g", vec![step(3)]).await,
        Err(StoreError::NotOwner)
    ));
    assert!(matches!(
        owner.append("g", vec![step(3)]).await,
        Err(StoreError::NotOwner)
    ));
    assert_eq!(seqs(&*other, "g").await, [1, 2]);

    // Generations of an owner that died: three instances sweep at once, each ends once.
    let dead = single(&server, "own", lease);
    for i in 0..20 {
        dead.create(meta(&format!("d{i}"), StreamKind::Generation))
            .await
            .unwrap();
        dead.append(&format!("d{i}"), vec![step(1)]).await.unwrap();
    }
    drop(dead);
    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    let sweepers: Vec<_> = (0..3).map(|_| single(&server, "own", lease)).collect();
    let runs = sweepers.iter().map(|s| {
        let s = s.clone();
        tokio::spawn(async move { s.end_orphans(&interrupted()).await.unwrap() })
    });
    let mut ended: Vec<String> = Vec::new();
    for run in runs {
        ended.extend(run.await.unwrap());
    }
    ended.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("d{i}")).collect();
    want.push("g".into());
    want.sort();
    assert_eq!(
        ended, want,
        "each expired generation ended by exactly one sweeper"
    );
    for id in &want {
        let events = other.read(id, 0, 100, usize::MAX).await.unwrap();
        let terminals = events.iter().filter(|e| e.terminal).count();
        assert_eq!(terminals, 1, "{id}: one terminal");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sweep_ends_more_orphans_than_a_page() {
    use futures_util::StreamExt;
    let server = Redis::start(None, &[]);
    let lease = Duration::from_millis(500);
    let dead = single(&server, "many", lease);
    let ids: Vec<String> = (0..1100).map(|i| format!("g{i}")).collect();
    futures_util::stream::iter(&ids)
        .for_each_concurrent(64, |id| {
            let dead = dead.clone();
            async move {
                dead.create(meta(id, StreamKind::Generation)).await.unwrap();
            }
        })
        .await;
    drop(dead);
    // Past the lease, and past a renewal the dropped store may have had under way.
    tokio::time::sleep(2 * lease + Duration::from_millis(500)).await;
    let sweeper = single(&server, "many", lease);
    let started = Instant::now();
    let mut ended = sweeper.end_orphans(&interrupted()).await.unwrap();
    let took = started.elapsed();
    eprintln!("one sweep ended {} orphans in {took:?}", ended.len());
    // One call goes on past a page (1000) unless its time (2 s) is up: on a loaded machine the
    // next calls take the rest.
    if took < Duration::from_secs(2) {
        assert_eq!(ended.len(), ids.len(), "every orphan ended by one sweep");
    }
    assert!(ended.len() >= 1000);
    loop {
        let more = sweeper.end_orphans(&interrupted()).await.unwrap();
        if more.is_empty() {
            break;
        }
        ended.extend(more);
    }
    ended.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(ended, want, "every orphan ended once");
    assert!(sweeper
        .end_orphans(&interrupted())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_generations_leave_the_owned_map_once_ended() {
    let server = Redis::start(None, &[]);
    let lease = Duration::from_millis(600);
    let owner = single(&server, "lost", lease);
    let other = single(&server, "lost", lease);
    for id in ["zombie", "unrenewed", "cancelled", "gone"] {
        owner
            .create(meta(id, StreamKind::Generation))
            .await
            .unwrap();
    }
    assert_eq!(owner.owned_generations(), 4);
    // Paused past its lease: the append is refused, and stays refused until the sweep ends it.
    server.cli(&["HSET", "lost:{zombie}:meta", "deadline", "1"]);
    assert!(matches!(
        owner.append("zombie", vec![step(1)]).await,
        Err(StoreError::NotOwner)
    ));
    // A renewal refused.
    server.cli(&["HSET", "lost:{unrenewed}:meta", "deadline", "1"]);
    // Ended through another instance: the owner's next append finds it finished.
    other.append("cancelled", vec![done()]).await.unwrap();
    assert!(matches!(
        owner.append("cancelled", vec![step(1)]).await,
        Err(StoreError::Finished)
    ));
    // Gone altogether (expired, flushed): the renewal is refused.
    server.cli(&["DEL", "lost:{gone}:meta"]);
    tokio::time::sleep(lease).await;
    assert!(
        owner.owned_generations() >= 2,
        "lost ones are kept until ended"
    );
    assert!(matches!(
        owner.append("zombie", vec![step(1)]).await,
        Err(StoreError::NotOwner)
    ));
    let mut ended = other.end_orphans(&interrupted()).await.unwrap();
    ended.sort();
    assert_eq!(ended, ["unrenewed", "zombie"]);
    let until = Instant::now() + Duration::from_secs(5);
    while owner.owned_generations() != 0 {
        assert!(
            Instant::now() < until,
            "{} generations left in the owned map",
            owner.owned_generations()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(
        owner.append("zombie", vec![step(1)]).await,
        Err(StoreError::Finished)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_lease_is_not_swept() {
    let server = Redis::start(None, &[]);
    let lease = Duration::from_millis(600);
    let owner = single(&server, "renew", lease);
    owner
        .create(meta("g", StreamKind::Generation))
        .await
        .unwrap();
    let sweeper = single(&server, "renew", lease);
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(sweeper
            .end_orphans(&interrupted())
            .await
            .unwrap()
            .is_empty());
    }
    owner.append("g", vec![step(1), done()]).await.unwrap();
    assert_eq!(seqs(&*sweeper, "g").await, [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_appends_survive_dropped_connections_without_duplicates() {
    let server = Redis::start(None, &[]);
    let owner = single(&server, "blip", Duration::from_secs(5));
    owner
        .create(meta("g", StreamKind::Generation))
        .await
        .unwrap();
    let port = server.port;
    let killer = tokio::task::spawn_blocking(move || {
        let mut killed = 0;
        for _ in 0..40 {
            // Every command connection but redis-cli's own.
            killed += cli(port, &["CLIENT", "KILL", "TYPE", "normal"])
                .trim()
                .parse::<u32>()
                .unwrap_or(0);
            std::thread::sleep(Duration::from_millis(15));
        }
        killed
    });
    for i in 0..300 {
        owner.append("g", vec![step(i)]).await.unwrap();
    }
    owner.append("g", vec![done()]).await.unwrap();
    assert!(killer.await.unwrap() > 0, "connections were cut");
    assert_eq!(seqs(&*owner, "g").await, (1..=301).collect::<Vec<_>>());
}

/// The step number of a stored `reasoning_step`.
fn step_of(e: &ssekit_server::store::StoredEvent) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(&e.data).unwrap();
    v["step"].as_u64().unwrap()
}

/// The cluster client sends a command again after a reconnect, also one Redis ran already (its
/// answer lost with the connection): publish appends (no owner, no Idempotency-Key) must still
/// be applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_appends_on_a_cluster_apply_once_while_connections_drop() {
    let cluster = RedisCluster::start(&[]);
    let store = Arc::new(
        RedisStore::open_cluster(&cluster.urls(), options("storm", Duration::from_secs(10)))
            .unwrap(),
    );
    let ids: Vec<String> = (0..4).map(|i| format!("p{i}")).collect();
    for id in &ids {
        store.create(meta(id, StreamKind::Published)).await.unwrap();
    }
    let ports = cluster.ports();
    let killer = tokio::task::spawn_blocking(move || {
        let mut killed = 0;
        for _ in 0..60 {
            for &port in &ports {
                killed += cli(port, &["CLIENT", "KILL", "TYPE", "normal"])
                    .trim()
                    .parse::<u32>()
                    .unwrap_or(0);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        killed
    });
    let tasks: Vec<_> = (0..16u32)
        .map(|t| {
            let store = store.clone();
            let id = ids[t as usize % ids.len()].clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..150 {
                    let n = t * 1000 + i;
                    if store.append(&id, vec![step(n)]).await.is_ok() {
                        acked.push(u64::from(n));
                    }
                }
                (id, acked)
            })
        })
        .collect();
    let mut acked: std::collections::HashMap<String, Vec<u64>> = Default::default();
    for task in tasks {
        let (id, got) = task.await.unwrap();
        acked.entry(id).or_default().extend(got);
    }
    assert!(killer.await.unwrap() > 0, "connections were cut");
    let mut total = 0;
    for id in &ids {
        // Read at once: the first command after the storm waits for the reconnect.
        let events = store.read(id, 0, 100_000, usize::MAX).await.unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=events.len() as u64).collect::<Vec<_>>(),
            "{id}: gapless"
        );
        let mut steps: Vec<u64> = events.iter().map(|e| step_of(e)).collect();
        steps.sort();
        let len = steps.len();
        steps.dedup();
        assert_eq!(steps.len(), len, "{id}: an append stored twice");
        for n in &acked[id] {
            assert!(
                steps.binary_search(n).is_ok(),
                "{id}: acknowledged {n} is missing"
            );
        }
        total += acked[id].len();
    }
    assert!(total > 0, "some appends were acknowledged");
    eprintln!("{total} of 2400 appends acknowledged");
}

/// One master of a Cluster killed (`kill -9`, no replica) and started again on its AOF within
/// the lease: streams on the other masters go on, the owner's append to a generation on the dead
/// master waits for it and lands once, and no sweeper takes the generation for an orphan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_master_down_within_the_lease_interrupts_nothing() {
    let mut cluster = RedisCluster::start(&[]);
    let lease = Duration::from_secs(10);
    let owner =
        Arc::new(RedisStore::open_cluster(&cluster.urls(), options("part", lease)).unwrap());
    owner
        .create(meta("g", StreamKind::Generation))
        .await
        .unwrap();
    for i in 0..5 {
        owner.append("g", vec![step(i)]).await.unwrap();
    }
    let node_of = |key: &str| {
        cluster
            .nodes
            .iter()
            .position(|n| n.cli(&["EXISTS", key]).trim() == "1")
            .unwrap()
    };
    let down = node_of("part:{g}:meta");
    // A published stream on another master.
    let mut other = None;
    for i in 0..32 {
        let id = format!("p{i}");
        owner
            .create(meta(&id, StreamKind::Published))
            .await
            .unwrap();
        if node_of(&format!("part:{{{id}}}:meta")) != down {
            other = Some(id);
            break;
        }
    }
    let other = other.expect("a stream on another master");

    cluster.nodes[down].kill9();
    owner.append(&other, vec![step(1)]).await.unwrap();
    owner.health().await.unwrap();
    let waiting = {
        let owner = owner.clone();
        tokio::spawn(async move { owner.append("g", vec![step(5)]).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    owner.append(&other, vec![step(2)]).await.unwrap();
    tokio::task::block_in_place(|| cluster.nodes[down].restart());
    waiting
        .await
        .unwrap()
        .expect("the owner append waited for its master");
    for i in 6..10 {
        owner.append("g", vec![step(i)]).await.unwrap();
    }
    let sweeper = RedisStore::open_cluster(&cluster.urls(), options("part", lease)).unwrap();
    assert_eq!(
        sweeper.end_orphans(&interrupted()).await.unwrap(),
        Vec::<String>::new(),
        "no generation is taken for an orphan"
    );
    owner.append("g", vec![done()]).await.unwrap();
    let events = owner.read("g", 0, 100, usize::MAX).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    assert_eq!(
        events[..10].iter().map(|e| step_of(e)).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>(),
        "every step once, in order"
    );
    assert!(
        events[10].terminal,
        "the pipeline's own end, not an interruption"
    );
    assert!(
        std::str::from_utf8(&events[10].data)
            .unwrap()
            .contains(r#""success":true"#),
        "the pipeline's own end, not an interruption"
    );
    assert_eq!(seqs(&*owner, &other).await, [1, 2]);
}

/// Redis killed (`kill -9`, AOF with `appendfsync always`) while a subscriber follows a stream
/// and appends go on, then started again on the same port and folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_fails_appends_and_subscribers_continue_after_it() {
    let mut server = Redis::start(None, &[]);
    let store = single(&server, "down", Duration::from_secs(10));
    store
        .create(meta("s", StreamKind::Published))
        .await
        .unwrap();
    let follower = tokio::spawn(received(store.subscribe("s")));
    let mut acked = Vec::new();
    for i in 0..50 {
        store.append("s", vec![step(i)]).await.unwrap();
        acked.push(u64::from(i));
    }
    store.health().await.unwrap();
    server.kill9();
    let down = Instant::now();
    let mut refused = 0;
    for i in 50..60 {
        match tokio::time::timeout(Duration::from_secs(3), store.append("s", vec![step(i)]))
            .await
            .expect("an append while Redis is down fails fast")
        {
            Ok(_) => acked.push(u64::from(i)),
            Err(StoreError::Backend(_)) => refused += 1,
            Err(e) => panic!("append while Redis is down: {e}"),
        }
    }
    assert!(refused > 0, "appends fail while Redis is down");
    assert!(store.health().await.is_err(), "health while Redis is down");
    assert!(matches!(
        store.read("s", 0, 10, usize::MAX).await,
        Err(StoreError::Backend(_))
    ));
    eprintln!(
        "{refused} appends refused in {:.1} s while Redis was down",
        down.elapsed().as_secs_f64()
    );
    server.restart();
    let until = Instant::now() + Duration::from_secs(10);
    while store.health().await.is_err() {
        assert!(Instant::now() < until, "health comes back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 60..100 {
        store.append("s", vec![step(i)]).await.unwrap();
        acked.push(u64::from(i));
    }
    store.append("s", vec![done()]).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(20), follower)
        .await
        .expect("the subscriber saw the end")
        .unwrap();
    let stored = store.read("s", 0, 1000, usize::MAX).await.unwrap();
    let n = stored.len() as u64;
    assert_eq!(
        got,
        (1..=n).collect::<Vec<_>>(),
        "the subscriber: gapless, once each"
    );
    let steps: Vec<u64> = stored
        .iter()
        .filter(|e| !e.terminal)
        .map(|e| step_of(e))
        .collect();
    for a in &acked {
        assert!(steps.contains(a), "acknowledged step {a} is stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_followed_while_it_has_subscribers() {
    let server = Redis::start(None, &[]);
    let store = single(&server, "follow", Duration::from_secs(10));
    store
        .create(meta("s", StreamKind::Published))
        .await
        .unwrap();
    store
        .create(meta("t", StreamKind::Published))
        .await
        .unwrap();
    let (a, b, c) = (
        store.subscribe("s"),
        store.subscribe("s"),
        store.subscribe("t"),
    );
    assert_eq!(store.followed(), 2, "one follower per stream, shared");
    drop((a, b));
    let until = Instant::now() + Duration::from_secs(5);
    while store.followed() != 1 {
        assert!(Instant::now() < until, "the follower of s stops");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut c = c;
    store.append("t", vec![step(1)]).await.unwrap();
    assert_eq!(c.recv().await.unwrap()[0].seq, 1);
}

/// Drains `live` until the stream ends: every position in order, once.
async fn received(mut live: ssekit_server::store::Live) -> Vec<u64> {
    let mut got = Vec::new();
    while let Ok(batch) = live.recv().await {
        got.extend(batch.iter().map(|e| e.seq));
    }
    got
}

/// Subscribers on `reader` while `writer` appends and every node in `ports` cuts its pub/sub
/// clients off, then limits their output buffers to nothing: every event in order, once.
async fn gapless_through_pubsub_loss(
    reader: Arc<RedisStore>,
    writer: Arc<RedisStore>,
    ports: Vec<u16>,
) {
    writer
        .create(meta("s", StreamKind::Published))
        .await
        .unwrap();
    let lives: Vec<_> = (0..3).map(|_| reader.subscribe("s")).collect();
    let tasks: Vec<_> = lives
        .into_iter()
        .map(|l| tokio::spawn(received(l)))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut killed = 0;
    for i in 0..300u32 {
        writer.append("s", vec![step(i)]).await.unwrap();
        for &port in &ports {
            if i % 50 == 10 {
                let n = cli(port, &["CLIENT", "KILL", "TYPE", "pubsub"]);
                killed += n.trim().parse::<u32>().unwrap_or(0);
            }
            if i == 150 {
                // Any pub/sub client with a byte queued is cut off.
                cli(
                    port,
                    &[
                        "CONFIG",
                        "SET",
                        "client-output-buffer-limit",
                        "pubsub 1 1 0",
                    ],
                );
            }
        }
    }
    writer.append("s", vec![done()]).await.unwrap();
    assert!(killed > 0, "the subscription was cut off");
    for task in tasks {
        let got = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("the subscriber saw the end")
            .unwrap();
        assert_eq!(got, (1..=301).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_stay_gapless_when_pubsub_loses_messages() {
    let server = Redis::start(None, &[]);
    let reader = single(&server, "lossy", Duration::from_secs(10));
    let writer = single(&server, "lossy", Duration::from_secs(10));
    gapless_through_pubsub_loss(reader, writer, vec![server.port]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_stay_gapless_when_sharded_pubsub_loses_messages() {
    let cluster = RedisCluster::start(&[]);
    let urls = cluster.urls();
    let open = || {
        Arc::new(
            RedisStore::open_cluster(&urls, options("lossy", Duration::from_secs(10))).unwrap(),
        )
    };
    gapless_through_pubsub_loss(open(), open(), cluster.ports()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_appends_once() {
    let server = Redis::start(None, &[]);
    let a = single(&server, "idem", Duration::from_secs(10));
    let b = single(&server, "idem", Duration::from_secs(10));
    a.create(meta("s", StreamKind::Published)).await.unwrap();
    let first = a
        .append_once("s", "k1", vec![step(1), step(2)])
        .await
        .unwrap();
    assert!(!first.replayed);
    let again = b
        .append_once("s", "k1", vec![step(1), step(2)])
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(
        again.events.iter().map(|e| &e.frame).collect::<Vec<_>>(),
        first.events.iter().map(|e| &e.frame).collect::<Vec<_>>()
    );
    assert!(matches!(
        b.append_once("s", "k1", vec![step(1), step(3)]).await,
        Err(StoreError::KeyReused)
    ));
    assert!(matches!(
        b.append_once("s", "k1", vec![step(1)]).await,
        Err(StoreError::KeyReused)
    ));
    // Racing retries store the events once.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { s.append_once("s", "k2", vec![step(9)]).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for r in racers {
        fresh += usize::from(!r.await.unwrap().replayed);
    }
    assert_eq!(fresh, 1);
    assert_eq!(seqs(&*a, "s").await, [1, 2, 3]);
    // A key kept after the end answers the replay too.
    a.append_once("s", "k3", vec![done()]).await.unwrap();
    assert!(
        b.append_once("s", "k3", vec![done()])
            .await
            .unwrap()
            .replayed
    );
}

#[test]
fn redis_store_urls_parse() {
    use ssekit_server::StoreConfig;
    assert_eq!(
        "redis://127.0.0.1:6380/2".parse::<StoreConfig>(),
        Ok(StoreConfig::Redis("redis://127.0.0.1:6380/2".into()))
    );
    assert_eq!(
        "redis-cluster://a:7000,b:7001".parse::<StoreConfig>(),
        Ok(StoreConfig::RedisCluster(vec![
            "redis://a:7000".into(),
            "redis://b:7001".into()
        ]))
    );
    for bad in [
        "redis://",
        "redis://h:port",
        "redis://h:1/x",
        "redis-cluster:h:1",
        "redis-cluster://h:1,",
    ] {
        assert!(bad.parse::<StoreConfig>().is_err(), "{bad}");
    }
    // The password stays out of logs.
    let config = "redis://u:secret@h:1".parse::<StoreConfig>().unwrap();
    assert!(!format!("{config:?}").contains("secret"));
}

/// A rough figure, not a benchmark (`cargo test … -- --ignored --nocapture`): appends per
/// second through one instance, 16 tasks, AOF with `appendfsync always`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn append_rate() {
    let server = Redis::start(None, &[]);
    let store = single(&server, "rate", Duration::from_secs(10));
    let started = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("r{t}");
                store
                    .create(meta(&id, StreamKind::Published))
                    .await
                    .unwrap();
                for i in 0..500 {
                    store.append(&id, vec![step(i)]).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("8000 appends in {secs:.2} s: {:.0}/s", 8000.0 / secs);
}

/// A rough figure (`cargo test … fan_out_rate -- --ignored --nocapture`): one writer, 4 other
/// instances with a subscriber each on the same stream; the time until every subscriber has
/// every event, and what Redis spent on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn fan_out_rate() {
    let server = Redis::start(None, &[]);
    let writer = single(&server, "fan", Duration::from_secs(10));
    writer
        .create(meta("s", StreamKind::Published))
        .await
        .unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| single(&server, "fan", Duration::from_secs(10)))
        .collect();
    let tasks: Vec<_> = readers
        .iter()
        .map(|r| tokio::spawn(received(r.subscribe("s"))))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.cli(&["CONFIG", "RESETSTAT"]);
    let started = Instant::now();
    let appends = 2000u32;
    const WRITERS: u32 = 1;
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let w = writer.clone();
            tokio::spawn(async move {
                for i in 0..appends / WRITERS {
                    w.append("s", vec![step(t * 10_000 + i)]).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let written = started.elapsed().as_secs_f64();
    writer.append("s", vec![done()]).await.unwrap();
    for t in tasks {
        assert_eq!(t.await.unwrap().len(), appends as usize + 1);
    }
    let all = started.elapsed().as_secs_f64();
    let stats = server.cli(&["INFO", "commandstats"]);
    let line = |cmd: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{cmd}:")))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let cpu = server.cli(&["INFO", "cpu"]);
    println!("{appends} appends written in {written:.2} s, all 4 subscribers done in {all:.2} s");
    println!(
        "{}\n{}\n{}",
        line("evalsha"),
        line("xrange"),
        line("publish")
    );
    println!(
        "{}",
        cpu.lines()
            .filter(|l| l.starts_with("used_cpu_"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
