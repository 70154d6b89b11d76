//! The scenarios. Each returns its figures as JSON.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::conn::{subscribe, Scanner};
use crate::target::{now_nanos, payload, Stream, Target};
use crate::{BenchArgs, Scenario, System};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long subscribers may take to receive what was published before the rest counts as lost.
const DRAIN: Duration = Duration::from_secs(30);

pub async fn run(args: &BenchArgs) -> Result<Value, Box<dyn std::error::Error>> {
    let targets: Vec<Target> = args
        .url
        .iter()
        .map(|u| Target::new(args.system, u))
        .collect();
    let figures = match args.scenario {
        Scenario::Idle => idle(args, &targets[0]).await,
        Scenario::Fanout => fanout(args, &targets).await,
        Scenario::Generations => generations(args, &targets).await,
        Scenario::Replay => replay(args, &targets[0]).await,
        Scenario::Append => append(args, &targets).await,
        Scenario::Churn => churn(args, &targets[0]).await,
        Scenario::StoreAppend => store_append(args).await,
        Scenario::Takeover => takeover(args, &targets).await,
    }
    .map_err(|e| e.to_string())?;
    Ok(
        json!({ "scenario": format!("{:?}", args.scenario).to_lowercase(), "system": format!("{:?}", args.system).to_lowercase(), "figures": figures }),
    )
}

/// The first instance's address.
fn server_addr(args: &BenchArgs) -> Result<SocketAddr, Error> {
    Ok(server_addrs(args)?[0])
}

/// Every instance's address, in the order of `--url`.
fn server_addrs(args: &BenchArgs) -> Result<Vec<SocketAddr>, Error> {
    args.url
        .iter()
        .map(|u| {
            let hostport = u.trim_start_matches("http://").trim_end_matches('/');
            Ok(hostport.parse()?)
        })
        .collect()
}

/// The server's resident memory, KiB: the sum over its processes.
fn rss_kib(pids: &[u32]) -> Option<u64> {
    let one = |pid: &u32| -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(one).sum()
}

/// Opens `n` subscriptions to `path`, spread over the source addresses and the instances
/// (round-robin), 200 at a time.
async fn open_many(
    args: &BenchArgs,
    path: &str,
    n: usize,
) -> Result<Vec<(TcpStream, Vec<u8>)>, Error> {
    let addrs = server_addrs(args)?;
    let mut conns = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + 200).min(n))
            .map(|k| {
                let path = path.to_owned();
                let source = 1 + (k % args.sources.max(1) as usize) as u8;
                let addr = addrs[k % addrs.len()];
                tokio::spawn(async move { subscribe(addr, source, &path).await })
            })
            .collect();
        for t in batch {
            conns.push(t.await??);
        }
        i += 200;
    }
    Ok(conns)
}

/// `total` events from `--publishers` concurrent publishers, through the first target, or
/// publisher `p` through target `p mod n` with `--spread`.
async fn publish_all(
    targets: &[Target],
    stream: &Stream,
    args: &BenchArgs,
    total: u64,
) -> Result<(), Error> {
    let publishers = args.publishers.max(1) as u64;
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let share = total / publishers + u64::from(p < total % publishers);
        let target = if args.spread {
            &targets[p as usize % targets.len()]
        } else {
            &targets[0]
        };
        let (target, stream, batch, pad) = (
            target.clone(),
            stream.clone(),
            args.batch.max(1),
            args.payload,
        );
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            while sent < share {
                let n = batch.min((share - sent) as usize);
                let payloads: Vec<String> = (0..n).map(|_| payload(pad)).collect();
                target.publish(&stream, &payloads).await?;
                sent += n as u64;
            }
            Ok::<_, Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

fn latency(h: &Histogram<u64>) -> Value {
    let ms = |v: u64| v as f64 / 1000.0;
    json!({ "p50_ms": ms(h.value_at_quantile(0.5)), "p99_ms": ms(h.value_at_quantile(0.99)), "max_ms": ms(h.max()), "samples": h.len() })
}

async fn idle(args: &BenchArgs, target: &Target) -> Result<Value, Error> {
    let stream = target.create_stream().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(&args.pid);
    let started = Instant::now();
    let conns = open_many(args, &stream.events_path, args.connections).await?;
    let connect_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(&args.pid);
    let per = match (before, after) {
        (Some(b), Some(a)) => Some((a.saturating_sub(b) as f64 * 1024.0) / conns.len() as f64),
        _ => None,
    };
    drop(conns);
    Ok(
        json!({ "subscribers": args.connections, "rss_before_kib": before, "rss_after_kib": after, "rss_per_subscriber_bytes": per, "connect_s": connect_s }),
    )
}

/// Reads a subscription until it has `expect` events (or the deadline), recording latencies.
async fn read_until(
    mut stream: TcpStream,
    first: Vec<u8>,
    expect: u64,
    hist: Arc<Mutex<Histogram<u64>>>,
    received: Arc<AtomicU64>,
    last_receipt: Arc<AtomicU64>,
    deadline: Arc<AtomicU64>,
) -> u64 {
    let mut scanner = Scanner::default();
    let mut got = 0u64;
    let mut samples = Vec::with_capacity(64);
    let mut buf = vec![0u8; 16 * 1024];
    let mut chunk = first;
    loop {
        let now = now_nanos();
        scanner.feed(
            &chunk,
            |t| samples.push(now.saturating_sub(t) / 1000),
            || {},
        );
        if !samples.is_empty() {
            got += samples.len() as u64;
            received.fetch_add(samples.len() as u64, Ordering::Relaxed);
            last_receipt.fetch_max(now, Ordering::Relaxed);
            let mut h = hist.lock().expect("histogram");
            for s in samples.drain(..) {
                let _ = h.record(s.max(1));
            }
        }
        if got >= expect {
            return got;
        }
        let limit = deadline.load(Ordering::Relaxed);
        let wait = if limit == 0 {
            Duration::from_secs(3600)
        } else {
            Duration::from_nanos(limit.saturating_sub(now_nanos()))
        };
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => chunk = buf[..n].to_vec(),
            _ => return got,
        }
    }
}

async fn fanout(args: &BenchArgs, targets: &[Target]) -> Result<Value, Error> {
    let target = &targets[0];
    let stream = target.create_stream().await?;
    let conns = open_many(args, &stream.events_path, args.connections).await?;
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1,
        600_000_000,
        3,
    )?));
    let received = Arc::new(AtomicU64::new(0));
    let last_receipt = Arc::new(AtomicU64::new(0));
    let deadline = Arc::new(AtomicU64::new(0));
    let k = args.events;
    let readers: Vec<_> = conns
        .into_iter()
        .map(|(s, first)| {
            tokio::spawn(read_until(
                s,
                first,
                k,
                hist.clone(),
                received.clone(),
                last_receipt.clone(),
                deadline.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = now_nanos();
    if args.rate == 0 {
        publish_all(targets, &stream, args, k).await?;
    } else {
        // Paced: every 10 ms, what the rate allows so far.
        let mut sent = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let t0 = Instant::now();
        while sent < k {
            tick.tick().await;
            let due = ((t0.elapsed().as_secs_f64() * args.rate as f64) as u64).min(k);
            if due > sent {
                let payloads: Vec<String> = (sent..due).map(|_| payload(args.payload)).collect();
                for chunk in payloads.chunks(args.batch.max(1)) {
                    target.publish(&stream, chunk).await?;
                }
                sent = due;
            }
        }
    }
    let published = now_nanos();
    deadline.store(published + DRAIN.as_nanos() as u64, Ordering::Relaxed);
    for r in readers {
        r.await?;
    }
    let total = received.load(Ordering::Relaxed);
    let expected = k * args.connections as u64;
    let span_s = (last_receipt.load(Ordering::Relaxed).saturating_sub(started)) as f64 / 1e9;
    let h = hist.lock().expect("histogram");
    Ok(json!({
        "instances": targets.len(),
        "subscribers": args.connections,
        "events": k,
        "offered_rate": args.rate,
        "publish_s": (published - started) as f64 / 1e9,
        "deliveries": total,
        "lost": expected.saturating_sub(total),
        "deliveries_per_s": total as f64 / span_s.max(1e-9),
        "latency": latency(&h),
    }))
}

/// Generation `i` is started through instance `i mod n` and followed through instance
/// `(i + 1) mod n`: what a round-robin balancer does with a client's POST and then its GET
/// (with one instance, both on it).
async fn generations(args: &BenchArgs, targets: &[Target]) -> Result<Value, Error> {
    if targets[0].system != System::Ssekit {
        return Ok(json!({ "skipped": "only ssekit runs pipelines" }));
    }
    let m = args.connections;
    let expect = ssekit_demo::event_count(args.blocks);
    // Which events the pipeline pauses `delayMs` before: an event's lateness is how much longer
    // than that pause it took to arrive after the one before it.
    let pauses: Arc<Vec<bool>> = Arc::new({
        let mut script = ssekit_demo::Script::new("bench", "bench", args.blocks);
        std::iter::from_fn(|| script.next_step().map(|s| s.pause)).collect()
    });
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1,
        600_000_000,
        3,
    )?));
    let errors = Arc::new(AtomicU64::new(0));
    let events = Arc::new(AtomicU64::new(0));
    let addrs = server_addrs(args)?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(m);
    for i in 0..m {
        let addr = addrs[(i + 1) % addrs.len()];
        let (target, hist, errors, events, pauses) = (
            targets[i % targets.len()].clone(),
            hist.clone(),
            errors.clone(),
            events.clone(),
            pauses.clone(),
        );
        let (blocks, delay, source) = (
            args.blocks,
            args.delay_ms,
            1 + (i % args.sources.max(1) as usize) as u8,
        );
        tasks.push(tokio::spawn(async move {
            let run = async {
                let path = target.start_generation(blocks, delay).await?;
                let (mut s, first) = subscribe(addr, source, &path).await?;
                let mut scanner = Scanner::default();
                let mut got = 0u64;
                let mut last: Option<Instant> = None;
                let mut buf = vec![0u8; 8192];
                let mut chunk = first;
                loop {
                    let now = Instant::now();
                    let mut n_events = 0;
                    scanner.feed(&chunk, |_| {}, || n_events += 1);
                    if n_events > 0 {
                        if let Some(prev) = last {
                            // How much later than the pipeline's own pace each event arrived:
                            // it was due the pauses before it (and after the previous arrival).
                            let gap = now.duration_since(prev).as_micros() as u64;
                            let mut due = 0;
                            let mut h = hist.lock().expect("histogram");
                            for k in got..got + n_events {
                                if pauses.get(k as usize).copied().unwrap_or(true) {
                                    due += delay * 1000;
                                }
                                let _ = h.record(gap.saturating_sub(due).max(1));
                            }
                        }
                        last = Some(now);
                        got += n_events;
                        events.fetch_add(n_events, Ordering::Relaxed);
                    }
                    if got >= expect {
                        return Ok::<_, Error>(());
                    }
                    let n = tokio::time::timeout(DRAIN, s.read(&mut buf)).await??;
                    if n == 0 {
                        return Err("the stream ended early".into());
                    }
                    chunk = buf[..n].to_vec();
                }
            };
            if run.await.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let h = hist.lock().expect("histogram");
    let total = events.load(Ordering::Relaxed);
    Ok(json!({
        "instances": targets.len(),
        "generations": m,
        "delay_ms": args.delay_ms,
        "events": total,
        "events_per_s": total as f64 / elapsed,
        "errors": errors.load(Ordering::Relaxed),
        "elapsed_s": elapsed,
        "lateness": latency(&h),
    }))
}

async fn replay(args: &BenchArgs, target: &Target) -> Result<Value, Error> {
    let stream = target.create_stream().await?;
    // Nothing must be lost to a subscriber that arrives late: nchan and Node buffer, ssekit stores.
    publish_all(std::slice::from_ref(target), &stream, args, args.events).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut runs = Vec::new();
    for _ in 0..1 {
        let started = Instant::now();
        let (s, first) = subscribe(server_addr(args)?, 1, &stream.events_path).await?;
        let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
            1,
            600_000_000_000,
            2,
        )?));
        let deadline = Arc::new(AtomicU64::new(now_nanos() + DRAIN.as_nanos() as u64));
        let got = read_until(
            s,
            first,
            args.events,
            hist,
            Default::default(),
            Default::default(),
            deadline,
        )
        .await;
        let secs = started.elapsed().as_secs_f64();
        runs.push((got, got as f64 / secs));
    }
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (got, rate) = runs[runs.len() / 2];
    Ok(json!({ "events": args.events, "received": got, "events_per_s": rate }))
}

async fn append(args: &BenchArgs, targets: &[Target]) -> Result<Value, Error> {
    let stream = targets[0].create_stream().await?;
    let started = Instant::now();
    publish_all(targets, &stream, args, args.events).await?;
    let secs = started.elapsed().as_secs_f64();
    Ok(
        json!({ "instances": targets.len(), "spread": args.spread, "events": args.events, "batch": args.batch, "publishers": args.publishers, "events_per_s": args.events as f64 / secs }),
    )
}

async fn churn(args: &BenchArgs, target: &Target) -> Result<Value, Error> {
    let stream = target.create_stream().await?;
    let mut after_cycle = Vec::new();
    let mut peak = 0;
    let start = rss_kib(&args.pid);
    for _ in 0..args.cycles {
        let conns = open_many(args, &stream.events_path, args.connections).await?;
        peak = peak.max(rss_kib(&args.pid).unwrap_or(0));
        drop(conns);
        tokio::time::sleep(Duration::from_secs(1)).await;
        after_cycle.push(rss_kib(&args.pid));
    }
    // The first cycle warms the allocator up; a leak shows as growth after it.
    let first = after_cycle.first().copied().flatten();
    let last = after_cycle.last().copied().flatten();
    let growth = match (first, last) {
        (Some(f), Some(l)) if f > 0 => Some((l as f64 - f as f64) / f as f64 * 100.0),
        _ => None,
    };
    Ok(json!({
        "subscribers": args.connections,
        "cycles": args.cycles,
        "rss_start_kib": start,
        "rss_peak_kib": peak,
        "rss_after_each_cycle_kib": after_cycle,
        "growth_after_first_cycle_pct": growth,
        "end_vs_start_pct": match (start, last) {
            (Some(s), Some(l)) if s > 0 => Some((l as f64 - s as f64) / s as f64 * 100.0),
            _ => None,
        },
    }))
}

async fn store_append(args: &BenchArgs) -> Result<Value, Error> {
    use ssekit_events::{Event, ReasoningStep};
    use ssekit_server::store::{now_ms, MemoryStore, SqliteStore, Store, StreamKind, StreamMeta};

    let _dir;
    let store: Arc<dyn Store> = match args.store.split_once(':') {
        Some(("sqlite", path)) => Arc::new(SqliteStore::open(path, 1024)?),
        _ if args.store == "sqlite" => {
            _dir = tempfile::tempdir()?;
            Arc::new(SqliteStore::open(_dir.path().join("bench.db"), 1024)?)
        }
        _ => Arc::new(MemoryStore::new(1024)),
    };
    let publishers = args.publishers.max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let store = store.clone();
        let id = format!("bench{p}");
        store
            .create(StreamMeta::new(
                id.clone(),
                StreamKind::Published,
                json!({}),
                now_ms(),
            ))
            .await?;
        let (share, batch, pad) = (
            args.events / publishers as u64,
            args.batch.max(1),
            args.payload,
        );
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while sent < share {
                let n = batch.min((share - sent) as usize);
                let events = (0..n)
                    .map(|i| {
                        Event::ReasoningStep(ReasoningStep {
                            step: i as u32,
                            content: payload(pad),
                        })
                    })
                    .collect();
                store.append(&id, events).await?;
                sent += n as u64;
            }
            Ok::<_, ssekit_server::store::StoreError>(sent)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(
        json!({ "store": args.store, "events": total, "batch": args.batch, "appenders": publishers, "events_per_s": total as f64 / secs }),
    )
}

/// Kill the owner of running generations, time their `interrupted` terminal elsewhere.
///
/// `-n` generations are started through the first instance (which owns them), each followed
/// through one of the others; once every subscriber has its first event, the first `--pid` is
/// sent SIGKILL. Each subscriber then reads until an event carrying `"interrupted"` (the
/// terminal another instance's sweep writes when the owner's lease has run out); the figure is
/// the time from the kill to its receipt.
async fn takeover(args: &BenchArgs, targets: &[Target]) -> Result<Value, Error> {
    if targets[0].system != System::Ssekit {
        return Ok(json!({ "skipped": "only ssekit runs pipelines" }));
    }
    if targets.len() < 2 || args.pid.is_empty() {
        return Err("takeover needs two or more --url and the first one's --pid".into());
    }
    const MARK: &[u8] = b"\"interrupted\"";
    let addrs = server_addrs(args)?;
    let n = args.connections.max(1);
    let ready = Arc::new(tokio::sync::Semaphore::new(0));
    let killed_at = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let path = targets[0]
            .start_generation(args.blocks, args.delay_ms)
            .await?;
        let addr = addrs[1 + i % (addrs.len() - 1)];
        let source = 1 + (i % args.sources.max(1) as usize) as u8;
        let (ready, killed_at) = (ready.clone(), killed_at.clone());
        tasks.push(tokio::spawn(async move {
            let (mut s, first) = subscribe(addr, source, &path).await?;
            let mut seen: Vec<u8> = first;
            let mut buf = vec![0u8; 8192];
            let mut signalled = false;
            let mut received_at = None;
            // What arrived before the kill is not a takeover: only marks after it count.
            let mut from = 0;
            let limit = Instant::now() + Duration::from_secs(120);
            loop {
                if !signalled && seen.windows(7).any(|w| w == b"\nevent:" || w == b"event: ") {
                    signalled = true;
                    from = seen.len();
                    ready.add_permits(1);
                }
                if received_at.is_none()
                    && killed_at.load(Ordering::Relaxed) > 0
                    && seen[from.saturating_sub(MARK.len())..]
                        .windows(MARK.len())
                        .any(|w| w == MARK)
                {
                    received_at = Some(now_nanos());
                }
                let wait = if received_at.is_some() {
                    Duration::from_secs(1)
                } else {
                    limit.saturating_duration_since(Instant::now())
                };
                match tokio::time::timeout(wait, s.read(&mut buf)).await {
                    Ok(Ok(k)) if k > 0 => seen.extend_from_slice(&buf[..k]),
                    _ => break,
                }
            }
            let marks = seen.windows(MARK.len()).filter(|w| *w == MARK).count();
            Ok::<_, Error>((received_at, marks))
        }));
    }
    // Every subscriber has its first event: the generations run and are followed.
    let _all = tokio::time::timeout(Duration::from_secs(60), ready.acquire_many(n as u32))
        .await
        .map_err(|_| "not every subscriber got a first event within 60 s")??;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = nix::unistd::Pid::from_raw(args.pid[0] as i32);
    let killed = now_nanos();
    killed_at.store(killed, Ordering::Relaxed);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL)?;
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let (mut interrupted, mut duplicates, mut errors) = (0u64, 0u64, 0u64);
    for t in tasks {
        match t.await? {
            Ok((Some(at), marks)) => {
                interrupted += 1;
                duplicates += marks.saturating_sub(1) as u64;
                let _ = hist.record((at.saturating_sub(killed) / 1000).max(1));
            }
            _ => errors += 1,
        }
    }
    Ok(json!({
        "instances": targets.len(),
        "generations": n,
        "interrupted": interrupted,
        "duplicate_terminals": duplicates,
        "errors": errors,
        "takeover": latency(&hist),
    }))
}
