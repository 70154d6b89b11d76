//! The redis store on a real `redis-server` this test starts (AOF with `appendfsync always`, a
//! free port, a temporary folder) and on a 3-master Redis Cluster: the store suite, and what
//! only a shared store has to keep (several instances, leases, lost pub/sub messages).
//!
//! Skipped, with a note, when `redis-server` is not installed.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use ssekit_events::{ErrorEvent, Event, GenerationComplete, ReasoningStep, STAGE_INTERRUPTED};
use ssekit_server::store::{
    conformance, now_ms, RedisOptions, RedisStore, Store, StoreError, StreamKind, StreamMeta,
};

/// A `redis-server` of this test, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed() -> bool {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("redis-server is not installed: skipping");
    }
    ok
}

/// A free port whose cluster bus port (+10000) is free too.
fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--dir", dir.path().to_str().unwrap()])
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    let until = Instant::now() + Duration::from_secs(10);
    while cli(port, &["PING"]).trim() != "PONG" {
        assert!(Instant::now() < until, "redis-server did not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// Three masters, slots spread, `cluster_state:ok`.
fn start_cluster() -> Vec<Server> {
    let nodes: Vec<Server> = (0..3)
        .map(|_| {
            // Each node writes its cluster config into its own folder.
            start(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
            ])
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let out = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let until = Instant::now() + Duration::from_secs(20);
    while !nodes
        .iter()
        .all(|n| cli(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    {
        assert!(Instant::now() < until, "the cluster did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    nodes
}

fn options(prefix: &str, lease: Duration) -> RedisOptions {
    RedisOptions {
        buffer: 4096,
        lease,
        retention: Duration::from_secs(3600),
        prefix: prefix.into(),
    }
}

fn single(server: &Server, prefix: &str, lease: Duration) -> Arc<RedisStore> {
    let url = format!("redis://127.0.0.1:{}", server.port);
    Arc::new(RedisStore::open(&url, options(prefix, lease)).unwrap())
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
    if !installed() {
        return;
    }
    let server = start(&[]);
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
    if !installed() {
        return;
    }
    let nodes = start_cluster();
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}", n.port))
        .collect();
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
    if !installed() {
        return;
    }
    let server = start(&[]);
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
    if !installed() {
        return;
    }
    let server = start(&[]);
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
    cli(server.port, &["HSET", "own:{g}:meta", "deadline", "1"]);
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
async fn a_renewed_lease_is_not_swept() {
    if !installed() {
        return;
    }
    let server = start(&[]);
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
    if !installed() {
        return;
    }
    let server = start(&[]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_followed_while_it_has_subscribers() {
    if !installed() {
        return;
    }
    let server = start(&[]);
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
    if !installed() {
        return;
    }
    let server = start(&[]);
    let reader = single(&server, "lossy", Duration::from_secs(10));
    let writer = single(&server, "lossy", Duration::from_secs(10));
    gapless_through_pubsub_loss(reader, writer, vec![server.port]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_stay_gapless_when_sharded_pubsub_loses_messages() {
    if !installed() {
        return;
    }
    let nodes = start_cluster();
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}", n.port))
        .collect();
    let open = || {
        Arc::new(
            RedisStore::open_cluster(&urls, options("lossy", Duration::from_secs(10))).unwrap(),
        )
    };
    gapless_through_pubsub_loss(open(), open(), nodes.iter().map(|n| n.port).collect()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_appends_once() {
    if !installed() {
        return;
    }
    let server = start(&[]);
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
    if !installed() {
        return;
    }
    let server = start(&[]);
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
