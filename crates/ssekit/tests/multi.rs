//! Several `ssekit serve` instances on one Redis (and on a 3-master Redis Cluster): the faults
//! of DESIGN §5 — an instance killed or frozen mid-generation, Redis killed or paused, pub/sub
//! connections cut — each case asserting gapless, duplicate-free sequences. Native only: the
//! tests start their own `redis-server`s and instances on free loopback ports, whatever
//! `SSEKIT_TARGET` says.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ssekit_testkit::redis::{cli, Redis, RedisCluster};
use support::*;

/// The lease the fault cases run with: short, so a takeover takes seconds.
const LEASE: Duration = Duration::from_secs(2);
/// `sweep_every()` = min(1 s, lease / 4).
const SWEEP: Duration = Duration::from_millis(500);

/// An instance on `store` (`redis://…` or `redis-cluster://…`).
fn instance(store: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--store", store, "--keepalive", "1s"];
    args.extend_from_slice(extra);
    Server::native(&args)
}

fn lease_arg() -> String {
    format!("{}s", LEASE.as_secs())
}

/// Events of stream `id` in Redis: `XLEN ssekit:{id}:events`.
fn stored(redis: &Redis, id: &str) -> u64 {
    redis
        .cli(&["XLEN", &format!("ssekit:{{{id}}}:events")])
        .trim()
        .parse()
        .unwrap()
}

fn terminal_errors(events: &[Received]) -> Vec<&Received> {
    events.iter().filter(|e| e.event == "error").collect()
}

fn assert_interrupted(e: &Received) {
    assert_eq!(e.event, "error");
    assert_eq!(e.data["stage"], "interrupted", "{:?}", e.data);
    assert_eq!(e.data["recoverable"], true);
}

fn key(e: &Received) -> (String, String, Value) {
    (e.id.clone(), e.event.clone(), e.data.clone())
}

#[tokio::test]
async fn a_subscriber_reading_part_on_one_instance_resumes_on_another_at_every_cut_point() {
    let redis = Redis::start(None, &[]);
    let (a, b) = (instance(&redis.url(), &[]), instance(&redis.url(), &[]));
    let created = create(&a, 1, 0).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let all = Sse::open(&a.url(&path), None).await.collect().await;
    let n = all.len() as u64;
    assert_sequence(&all, &id, 1, demo_events(1));
    assert_eq!(stored(&redis, &id), n);
    for k in 0..=n {
        // Both ways round: a part on A, the rest on B, and the other way.
        for (first, second) in [(&a, &b), (&b, &a)] {
            let mut sse = Sse::open(&first.url(&path), None).await;
            let mut seen = Vec::new();
            for _ in 0..k {
                seen.push(sse.next_event().await.unwrap());
            }
            drop(sse);
            if k == n {
                let done = Sse::open(&second.url(&path), Some(&format!("{id}:{k}"))).await;
                assert_eq!(done.status, 204);
                continue;
            }
            let last = (k > 0).then(|| format!("{id}:{k}"));
            seen.extend(
                Sse::open(&second.url(&path), last.as_deref())
                    .await
                    .collect()
                    .await,
            );
            assert_eq!(
                seen.iter().map(key).collect::<Vec<_>>(),
                all.iter().map(key).collect::<Vec<_>>(),
                "cut after {k}"
            );
        }
    }

    // Live: one subscriber hops between the instances every few events while the generation runs.
    let created = create(&b, 3, 30).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let mut seen: Vec<Received> = Vec::new();
    let mut hop = 0;
    loop {
        let on = if hop % 2 == 0 { &a } else { &b };
        hop += 1;
        let last = seen.last().map(|e| e.id.clone());
        let mut sse = Sse::open(&on.url(&path), last.as_deref()).await;
        if sse.status == 204 {
            break;
        }
        assert_eq!(sse.status, 200);
        for _ in 0..3 {
            match sse.next_event().await {
                Some(e) => seen.push(e),
                None => break,
            }
        }
    }
    assert!(hop > 5, "the subscriber hopped {hop} times");
    assert_sequence(&seen, &id, 1, demo_events(3));
    assert_eq!(seen.last().unwrap().event, "generation-complete");
}

/// A generation on `owner` with a subscriber on `watcher`, `before` events read.
async fn running_generation(owner: &Server, watcher: &Server, before: usize) -> (String, Sse) {
    let created = create(owner, 8, 100).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let mut sse = Sse::open(&watcher.url(&path), None).await;
    assert_eq!(sse.status, 200);
    for _ in 0..before {
        sse.next_event().await.unwrap();
    }
    (id, sse)
}

/// A generation on `owner` read live on `watcher`; after `before` events the owner gets
/// `kill -9`. Returns the id, the events path and every event the watcher got, asserted gapless
/// and ended by exactly one `interrupted`, and how long after the kill that terminal came.
async fn owner_killed_mid_generation(
    owner: &mut Server,
    watcher: &Server,
    before: usize,
) -> (String, String, Vec<Received>, Duration) {
    let created = create(owner, 8, 100).await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = created["eventsUrl"].as_str().unwrap().to_string();
    let mut sse = Sse::open(&watcher.url(&path), None).await;
    let mut live = Vec::new();
    for _ in 0..before {
        live.push(sse.next_event().await.unwrap());
    }
    owner.kill9();
    let killed = Instant::now();
    live.extend(sse.collect().await);
    let took = live.last().unwrap().at - killed;
    eprintln!("takeover: the interrupted terminal arrived {took:?} after kill -9 of the owner");
    assert_sequence(&live, &id, 1, live.len() as u64);
    assert!(
        (live.len() as u64) < demo_events(8),
        "the generation finished before the kill"
    );
    assert_eq!(terminal_errors(&live).len(), 1);
    assert_interrupted(live.last().unwrap());
    (id, path, live, took)
}

#[tokio::test]
async fn kill_9_of_the_owner_ends_its_generation_interrupted_once_on_another_instance() {
    let redis = Redis::start(None, &[]);
    let lease = lease_arg();
    let mut a = instance(&redis.url(), &["--lease", &lease]);
    let b = instance(&redis.url(), &["--lease", &lease]);
    let (id, path, live, took) = owner_killed_mid_generation(&mut a, &b, 6).await;
    let n = live.len() as u64;
    // Lease plus one sweep, with a second for a loaded machine.
    assert!(
        took <= LEASE + SWEEP + Duration::from_secs(1),
        "interrupted after {took:?}"
    );
    // Every stored event: the record equals what the subscriber saw, and a fresh read agrees.
    assert_eq!(stored(&redis, &id), n);
    let again = Sse::open(&b.url(&path), None).await.collect().await;
    assert_eq!(
        again.iter().map(key).collect::<Vec<_>>(),
        live.iter().map(key).collect::<Vec<_>>()
    );
    let done = Sse::open(&b.url(&path), Some(&format!("{id}:{n}"))).await;
    assert_eq!(done.status, 204);
    let snap = get_json(&b.url(&format!("/v1/generations/{id}"))).await;
    assert_eq!(snap["status"], "error");
    assert_eq!(snap["lastEventId"], format!("{id}:{n}"));
}

#[tokio::test]
async fn an_owner_frozen_past_its_lease_appends_nothing_after_the_terminal() {
    let redis = Redis::start(None, &[]);
    let lease = lease_arg();
    let a = instance(&redis.url(), &["--lease", &lease]);
    let b = instance(&redis.url(), &["--lease", &lease]);
    let (id, mut sse) = running_generation(&a, &b, 4).await;
    a.signal_stop(true);
    let rest = sse.collect().await;
    let end = rest.last().expect("a terminal event").clone();
    assert_interrupted(&end);
    let n = end.seq();
    // Thawed, the zombie's pipeline resumes with an append its lease no longer allows.
    a.signal_stop(false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stored(&redis, &id), n, "appended after the terminal");
    let path = format!("/v1/generations/{id}/events");
    for on in [&a, &b] {
        let all = Sse::open(&on.url(&path), None).await.collect().await;
        assert_sequence(&all, &id, 1, n);
        assert_eq!(terminal_errors(&all).len(), 1);
        assert_eq!(Sse::open(&on.url(&path), Some(&end.id)).await.status, 204);
    }
    // And the thawed instance still serves: it takes new work.
    let fresh = create(&a, 1, 0).await;
    let events = Sse::open(&a.url(fresh["eventsUrl"].as_str().unwrap()), None)
        .await
        .collect()
        .await;
    assert_eq!(events.last().unwrap().event, "generation-complete");
}

#[tokio::test]
async fn three_instances_sweeping_the_same_expired_generations_write_one_terminal_each() {
    let redis = Redis::start(None, &[]);
    let lease = lease_arg();
    let mut owner = instance(&redis.url(), &["--lease", &lease]);
    let sweepers: Vec<Server> = (0..3)
        .map(|_| instance(&redis.url(), &["--lease", &lease]))
        .collect();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            create(&owner, 8, 100).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    owner.kill9();
    let mut watchers = Vec::new();
    for id in &ids {
        for s in &sweepers {
            let url = s.url(&format!("/v1/generations/{id}/events"));
            watchers.push((
                id.clone(),
                tokio::spawn(async move { Sse::open(&url, None).await.collect().await }),
            ));
        }
    }
    let mut ends = BTreeMap::new();
    for (id, w) in watchers {
        let events = w.await.unwrap();
        let n = events.len() as u64;
        assert_sequence(&events, &id, 1, n);
        assert_eq!(terminal_errors(&events).len(), 1, "{id}");
        assert_interrupted(events.last().unwrap());
        // Every instance saw the same stream.
        let prev = ends.insert(id.clone(), n);
        assert!(prev.is_none_or(|p| p == n), "{id}: {prev:?} then {n}");
        assert_eq!(stored(&redis, &id), n);
    }
}

/// `POST` of `body` to `url` with `Idempotency-Key: key`, retried (same key, same body) on 503
/// and on transport errors until it is acknowledged with 2xx; returns the answer and how many
/// attempts were refused first.
async fn publish_until_acknowledged(
    url: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (Value, u32) {
    let deadline = Instant::now() + PATIENCE * 2;
    let mut refused = 0;
    loop {
        let res = http()
            .post(url)
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => return (r.json().await.unwrap(), refused),
            Ok(r) if r.status() == 503 => {
                assert_eq!(r.headers()["retry-after"], "1");
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
            }
            Ok(r) => panic!("{} {}", r.status(), r.text().await.unwrap()),
            Err(_) => {}
        }
        refused += 1;
        assert!(Instant::now() < deadline, "{key} never acknowledged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn kill_9_of_redis_during_a_publish_storm_loses_no_acknowledged_event_and_doubles_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = Redis::start(Some(dir.path()), &[]);
    let instances: Vec<Server> = (0..3).map(|_| instance(&redis.url(), &[])).collect();
    let stream = create_stream(&instances[0]).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let path = stream["publishUrl"].as_str().unwrap().to_string();
    let events_path = stream["eventsUrl"].as_str().unwrap().to_string();
    // A subscriber on each instance, open through the whole storm.
    let mut subscribers = Vec::new();
    for s in &instances {
        let url = s.url(&events_path);
        subscribers.push(tokio::spawn(async move {
            Sse::open(&url, None).await.collect().await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    const PER_WRITER: u32 = 60;
    let mut writers = Vec::new();
    for (w, s) in instances.iter().enumerate() {
        let url = s.url(&path);
        let token = token.clone();
        writers.push(tokio::spawn(async move {
            let mut refused = 0;
            for i in 0..PER_WRITER {
                let body = json!({"event": "storm.append", "data": {"w": w, "i": i}});
                let (answer, r) =
                    publish_until_acknowledged(&url, &token, &format!("{w}-{i}"), &body).await;
                assert_eq!(answer["ids"].as_array().unwrap().len(), 1, "{answer}");
                refused += r;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            refused
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill9();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.restart();
    let mut refused = 0;
    for w in writers {
        refused += w.await.unwrap();
    }
    eprintln!("publish storm: {refused} attempts refused while Redis was down, then retried");
    assert!(refused > 0, "the outage missed the storm");
    let end =
        json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 1}});
    publish_until_acknowledged(&instances[1].url(&path), &token, "end", &end).await;

    let total = 3 * PER_WRITER as u64 + 1;
    let check = |events: &[Received]| {
        assert_sequence(events, &id, 1, total);
        let mut seen = std::collections::HashSet::new();
        for e in &events[..events.len() - 1] {
            assert_eq!(e.event, "storm.append");
            assert!(seen.insert(e.data.to_string()), "{} twice", e.data);
        }
        assert_eq!(seen.len() as u64, total - 1);
    };
    // The subscribers stayed open across the outage (no ssekit restarted) and got everything.
    for s in subscribers {
        check(&s.await.unwrap());
    }
    check(
        &Sse::open(&instances[2].url(&events_path), None)
            .await
            .collect()
            .await,
    );
    assert_eq!(stored(&redis, &id), total);
}

#[tokio::test]
async fn while_redis_is_down_appends_and_healthz_answer_503_and_both_recover() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = Redis::start(Some(dir.path()), &[]);
    let a = instance(&redis.url(), &[]);
    let stream = create_stream(&a).await;
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = a.url(stream["publishUrl"].as_str().unwrap());
    let step = json!({"event": "storm.append", "data": 1});
    assert_eq!(
        http().get(a.url("/healthz")).send().await.unwrap().status(),
        200
    );

    redis.kill9();
    let res = http().get(a.url("/healthz")).send().await.unwrap();
    assert_eq!(error_of(res).await, (503, "store_unavailable".into()));
    let res = post_events(&publish, &token, &step).await;
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(error_of(res).await, (503, "store_unavailable".into()));
    let res = http()
        .post(a.url("/v1/generations"))
        .json(&json!({"topic": "down", "blocks": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);

    redis.restart();
    let deadline = Instant::now() + PATIENCE;
    while http().get(a.url("/healthz")).send().await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "healthz stayed down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let res = post_events(&publish, &token, &step).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["lastEventId"],
        format!("{}:1", stream["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn an_instance_started_while_redis_is_down_stays_up_and_serves_once_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = Redis::start(Some(dir.path()), &[]);
    redis.kill9();
    // Started against a Redis that refuses connections: it listens, says 503, and does not exit.
    let a = instance(&redis.url(), &[]);
    let res = http().get(a.url("/healthz")).send().await.unwrap();
    assert_eq!(error_of(res).await, (503, "store_unavailable".into()));

    redis.restart();
    let deadline = Instant::now() + PATIENCE;
    while http().get(a.url("/healthz")).send().await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "healthz stayed down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = create(&a, 2, 0).await;
    let id = created["id"].as_str().unwrap();
    let events = Sse::open(&a.url(&format!("/v1/generations/{id}/events")), None)
        .await
        .collect()
        .await;
    assert_sequence(&events, id, 1, demo_events(2));
}

#[tokio::test]
async fn cut_pubsub_connections_and_a_tiny_output_buffer_leave_subscribers_gapless() {
    // Pub/sub clients are cut as soon as 512 bytes of notifications wait for them.
    let redis = Redis::start(
        None,
        &["--client-output-buffer-limit", "pubsub 512b 256b 1"],
    );
    let a = instance(&redis.url(), &[]);
    let b = instance(&redis.url(), &[]);
    let stream = create_stream(&a).await;
    let id = stream["id"].as_str().unwrap().to_string();
    let token = stream["publishToken"].as_str().unwrap().to_string();
    let publish = a.url(stream["publishUrl"].as_str().unwrap());
    let events_path = stream["eventsUrl"].as_str().unwrap().to_string();
    let mut subscribers = Vec::new();
    for _ in 0..3 {
        for s in [&a, &b] {
            let url = s.url(&events_path);
            subscribers.push(tokio::spawn(async move {
                Sse::open(&url, None).await.collect().await
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    const N: u64 = 300;
    let killer = {
        let port = redis.port;
        tokio::spawn(async move {
            let mut kills = 0;
            for _ in 0..30 {
                kills += cli(port, &["CLIENT", "KILL", "TYPE", "pubsub"])
                    .trim()
                    .parse::<u32>()
                    .unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            kills
        })
    };
    // Publish from two instances at once, in small batches, as fast as they take them.
    let mut writers = Vec::new();
    for (w, s) in [&a, &b].into_iter().enumerate() {
        let url = s.url(stream["publishUrl"].as_str().unwrap());
        let token = token.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..N / 6 {
                let batch: Vec<Value> = (0..3)
                    .map(|j| json!({"event": "storm.append", "data": {"w": w, "i": i, "j": j}}))
                    .collect();
                let res = post_events(&url, &token, &json!({ "events": batch })).await;
                assert_eq!(res.status(), 201);
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let kills = killer.await.unwrap();
    eprintln!("CLIENT KILL TYPE pubsub cut {kills} connections");
    let end =
        json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 1}});
    assert_eq!(post_events(&publish, &token, &end).await.status(), 201);
    for s in subscribers {
        let events = s.await.unwrap();
        assert_sequence(&events, &id, 1, N + 1);
    }
    assert!(kills > 0, "no pub/sub connection was cut");
}

#[tokio::test]
async fn a_redis_pause_shorter_than_the_lease_interrupts_no_generation() {
    let redis = Redis::start(None, &[]);
    let lease = "4s";
    let a = instance(&redis.url(), &["--lease", lease]);
    let b = instance(&redis.url(), &["--lease", lease]);
    let mut watchers = Vec::new();
    for owner in [&a, &b, &a] {
        let created = create(owner, 6, 80).await;
        let id = created["id"].as_str().unwrap().to_string();
        let other = if std::ptr::eq(owner, &a) { &b } else { &a };
        let url = other.url(created["eventsUrl"].as_str().unwrap());
        watchers.push((
            id,
            tokio::spawn(async move { Sse::open(&url, None).await.collect().await }),
        ));
    }
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let ok = redis.cli(&["CLIENT", "PAUSE", "1500", "ALL"]);
        assert_eq!(ok.trim(), "OK");
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    for (id, w) in watchers {
        let events = w.await.unwrap();
        assert_sequence(&events, &id, 1, demo_events(6));
        assert_eq!(events.last().unwrap().event, "generation-complete");
        assert!(terminal_errors(&events).is_empty());
    }
}

#[tokio::test]
async fn on_a_redis_cluster_two_instances_share_generations_and_published_streams() {
    let cluster = RedisCluster::start(&["--cluster-node-timeout", "5000"]);
    let a = instance(&cluster.url(), &[]);
    let b = instance(&cluster.url(), &[]);
    // Generations on both, each read live through the other and resumed through its own.
    for (owner, other) in [(&a, &b), (&b, &a), (&a, &b)] {
        let created = create(owner, 2, 20).await;
        let id = created["id"].as_str().unwrap().to_string();
        let path = created["eventsUrl"].as_str().unwrap().to_string();
        let live = Sse::open(&other.url(&path), None).await.collect().await;
        assert_sequence(&live, &id, 1, demo_events(2));
        let rest = Sse::open(&owner.url(&path), Some(&format!("{id}:7")))
            .await
            .collect()
            .await;
        assert_sequence(&rest, &id, 8, demo_events(2));
    }
    // Published streams (their keys spread over the masters), appended through both.
    for _ in 0..4 {
        let stream = create_stream(&b).await;
        let id = stream["id"].as_str().unwrap().to_string();
        let token = stream["publishToken"].as_str().unwrap();
        let path = stream["publishUrl"].as_str().unwrap();
        let events_path = stream["eventsUrl"].as_str().unwrap();
        let mut subs = Vec::new();
        for s in [&a, &b] {
            let url = s.url(events_path);
            subs.push(tokio::spawn(async move {
                Sse::open(&url, None).await.collect().await
            }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        for i in 0..10 {
            let via = if i % 2 == 0 { &a } else { &b };
            let body = json!({"event": "storm.append", "data": i});
            assert_eq!(
                post_events(&via.url(path), token, &body).await.status(),
                201
            );
        }
        let end =
            json!({"event": "generation-complete", "data": {"success": true, "totalDuration": 1}});
        assert_eq!(post_events(&a.url(path), token, &end).await.status(), 201);
        for s in subs {
            let events = s.await.unwrap();
            assert_sequence(&events, &id, 1, 11);
            for (i, e) in events[..10].iter().enumerate() {
                assert_eq!(e.data, json!(i));
            }
        }
    }
}

#[tokio::test]
async fn on_a_redis_cluster_kill_9_of_the_owner_ends_its_generation_interrupted_once() {
    // The sweep's `{leases}` index has its own slot, apart from the stream's keys (often on
    // another master): the takeover must still write exactly one terminal.
    let cluster = RedisCluster::start(&["--cluster-node-timeout", "5000"]);
    let lease = lease_arg();
    let mut a = instance(&cluster.url(), &["--lease", &lease]);
    let b = instance(&cluster.url(), &["--lease", &lease]);
    let c = instance(&cluster.url(), &["--lease", &lease]);
    let (id, path, live, _) = owner_killed_mid_generation(&mut a, &b, 4).await;
    let n = live.len() as u64;
    // Both survivors swept; a fresh read on the other one agrees, and a resume at the end is 204.
    tokio::time::sleep(SWEEP * 2).await;
    let again = Sse::open(&c.url(&path), None).await.collect().await;
    assert_eq!(
        again.iter().map(key).collect::<Vec<_>>(),
        live.iter().map(key).collect::<Vec<_>>()
    );
    let done = Sse::open(&c.url(&path), Some(&format!("{id}:{n}"))).await;
    assert_eq!(done.status, 204);
}
