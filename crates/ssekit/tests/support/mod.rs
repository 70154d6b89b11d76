//! What the black-box tests share: the real `ssekit` binary on a free loopback port, and an SSE
//! reader built on the project's own parser.
#![allow(dead_code)]

pub mod redis;
pub mod tokens;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use ssekit_protocol::{Item, Parser};

pub(crate) use ssekit_testkit::free_port;
pub use ssekit_testkit::PATIENCE;

/// What the black-box tests run against: `SSEKIT_TARGET=native` (default), `worker` (the Worker
/// under workerd) or `redis` (three `ssekit serve` instances on one Redis behind nginx).
fn target() -> &'static str {
    match std::env::var("SSEKIT_TARGET").as_deref() {
        Ok("worker") => "worker",
        Ok("redis") => "redis",
        Ok("native") | Err(_) => "native",
        Ok(other) => panic!("SSEKIT_TARGET={other}: expected native, worker or redis"),
    }
}

/// `SSEKIT_TARGET=worker`.
pub fn worker_target() -> bool {
    target() == "worker"
}

/// `SSEKIT_TARGET=redis`: every `Server` is `redis::FLEET` instances sharing one Redis (its own
/// per `Server`) behind nginx round-robin; `base` is nginx's URL.
pub fn redis_target() -> bool {
    target() == "redis"
}

/// A running `ssekit serve`, or the Worker under `workerd serve`; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub data: Option<PathBuf>,
    args: Vec<String>,
    /// The Worker's state directory when the test gave none (removed when dropped).
    scratch: Option<tempfile::TempDir>,
    /// The instances, their Redis and nginx, on the redis target.
    pub fleet: Option<Box<redis::Fleet>>,
}

impl Server {
    /// `ssekit serve --addr 127.0.0.1:0 ARGS…`, waiting for its "listening on" line.
    pub fn start(args: &[&str]) -> Server {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Self::spawn(args, None)
    }

    /// A server on the memory store.
    pub fn memory(extra: &[&str]) -> Server {
        let mut args = vec!["--store", "memory"];
        args.extend_from_slice(extra);
        Self::start(&args)
    }

    /// A server on a SQLite file in `dir`.
    pub fn sqlite(dir: &Path, extra: &[&str]) -> Server {
        let store = format!("sqlite:{}", dir.join("ssekit.db").display());
        let mut args = vec!["--store".to_string(), store];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(args, Some(dir.to_path_buf()))
    }

    fn spawn(args: Vec<String>, data: Option<PathBuf>) -> Server {
        Self::spawn_at("127.0.0.1:0", args, data)
    }

    fn spawn_at(addr: &str, args: Vec<String>, data: Option<PathBuf>) -> Server {
        if worker_target() {
            return Self::spawn_worker(addr, args, data);
        }
        if redis_target() {
            let fleet = redis::Fleet::start(&args, data.as_deref());
            return Server {
                child: None,
                base: fleet.nginx.base(),
                data,
                args,
                scratch: None,
                fleet: Some(Box::new(fleet)),
            };
        }
        Self::native_at(addr, args, data)
    }

    /// One process: the Worker on the worker target, else `ssekit serve` (an instance of a fleet
    /// on the redis target).
    fn process_at(addr: &str, args: Vec<String>, data: Option<PathBuf>) -> Server {
        if worker_target() {
            Self::spawn_worker(addr, args, data)
        } else {
            Self::native_at(addr, args, data)
        }
    }

    /// One `ssekit serve --addr ADDR ARGS…` whatever the target (the multi-instance tests start
    /// their instances with this, on their own `--store`).
    pub fn native(args: &[&str]) -> Server {
        let args = args.iter().map(|s| s.to_string()).collect();
        Self::native_at("127.0.0.1:0", args, None)
    }

    /// Like `native`, on a given address (`host:port`).
    pub fn native_at(addr: &str, args: Vec<String>, data: Option<PathBuf>) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ssekit"))
            .arg("serve")
            .args(["--addr", addr])
            .args(&args)
            .env("SSEKIT_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ssekit serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("ssekit exited before listening")
                .unwrap();
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child: Some(child),
            base,
            data,
            args,
            scratch: None,
            fleet: None,
        }
    }

    /// The Worker under `workerd serve`, its Durable Objects' storage on disk in `data` (a
    /// scratch directory when `None`); the server flags of `args` become its variables.
    fn spawn_worker(addr: &str, args: Vec<String>, data: Option<PathBuf>) -> Server {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let config = std::env::var_os("SSEKIT_WORKER_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("worker/build/workerd.capnp"));
        let workerd = std::env::var_os("SSEKIT_WORKERD")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("worker/node_modules/.bin/workerd"));
        assert!(
            config.exists(),
            "{} is missing: build the Worker with scripts/worker-build",
            config.display()
        );
        let (scratch, state) = match &data {
            Some(dir) => (None, dir.join("worker-state")),
            None => {
                let t = tempfile::tempdir().unwrap();
                let state = t.path().to_path_buf();
                (Some(t), state)
            }
        };
        std::fs::create_dir_all(&state).unwrap();
        let addr = if addr.ends_with(":0") {
            format!("127.0.0.1:{}", free_port())
        } else {
            addr.to_string()
        };
        let mut cmd = Command::new(&workerd);
        cmd.arg("serve")
            .arg(&config)
            .arg(format!("--socket-addr=http={addr}"))
            .arg(format!("--directory-path=state={}", state.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut flags = args.iter();
        // Repeated like the native flag, joined as the variable takes them.
        let mut cors_origins: Vec<&str> = Vec::new();
        while let Some(flag) = flags.next() {
            let value = flags.next().map(String::as_str).unwrap_or("");
            let (var, value) = match flag.as_str() {
                "--store" => continue, // the Worker has one store: its objects' storage
                "--retry" => ("SSEKIT_RETRY_MS", millis(value).to_string()),
                "--keepalive" => ("SSEKIT_KEEPALIVE_MS", millis(value).to_string()),
                "--retention" => ("SSEKIT_RETENTION_MS", millis(value).to_string()),
                "--cors-origin" => {
                    cors_origins.push(value);
                    ("SSEKIT_CORS_ORIGINS", cors_origins.join(","))
                }
                "--max-body" => ("SSEKIT_MAX_BODY", value.to_string()),
                "--subscriber-buffer" => ("SSEKIT_SUBSCRIBER_BUFFER", value.to_string()),
                "--stall-timeout" => ("SSEKIT_STALL_TIMEOUT_MS", millis(value).to_string()),
                "--body-timeout" => ("SSEKIT_BODY_TIMEOUT_MS", millis(value).to_string()),
                "--auth-secret" => ("SSEKIT_AUTH_SECRET", value.to_string()),
                // A Worker has no files: the variable holds the key itself.
                "--auth-public-key" => (
                    "SSEKIT_AUTH_PUBLIC_KEY",
                    std::fs::read_to_string(value).expect("read the public key"),
                ),
                "--auth-token-secret" => ("SSEKIT_AUTH_TOKEN_SECRET", value.to_string()),
                "--auth-audience" => ("SSEKIT_AUTH_AUDIENCE", value.to_string()),
                "--auth-issuer" => ("SSEKIT_AUTH_ISSUER", value.to_string()),
                "--token-ttl" => ("SSEKIT_TOKEN_TTL_MS", millis(value).to_string()),
                other => panic!("{other} has no Worker equivalent: the test is native-only"),
            };
            cmd.env(var, value);
        }
        let mut child = cmd.spawn().expect("start workerd serve");
        let base = format!("http://{addr}");
        let deadline = Instant::now() + PATIENCE;
        while !healthy(&addr) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "workerd exited before listening on {addr}"
            );
            assert!(
                Instant::now() < deadline,
                "workerd did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child: Some(child),
            base,
            data,
            args,
            scratch,
            fleet: None,
        }
    }

    /// `kill -9`: no shutdown, no flush, nothing graceful. (Every instance on the redis target;
    /// Redis and nginx keep running.)
    pub fn kill9(&mut self) {
        if let Some(fleet) = &mut self.fleet {
            for i in &mut fleet.instances {
                i.kill9();
            }
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the same server again (same store), on a new port. (On the redis target, the
    /// instances again on their ports behind the same nginx.)
    pub fn restart(&mut self) {
        if self.fleet.is_some() {
            return self.restart_in_place();
        }
        self.kill9();
        let next = Self::process_at("127.0.0.1:0", self.args.clone(), self.data.clone());
        let scratch = self.scratch.take();
        *self = next;
        self.scratch = self.scratch.take().or(scratch);
    }

    /// `kill -9`, then the same server again on the same address: clients keep their URLs.
    pub fn restart_in_place(&mut self) {
        if let Some(fleet) = &mut self.fleet {
            for i in &mut fleet.instances {
                i.kill9();
            }
            for i in &mut fleet.instances {
                i.restart_in_place();
            }
            return;
        }
        self.kill9();
        let addr = self.base.trim_start_matches("http://").to_string();
        let next = Self::process_at(&addr, self.args.clone(), self.data.clone());
        *self = next;
    }

    /// SIGTERM and wait for the process to exit (every instance on the redis target: the status
    /// of the last one that is not a success, else the last).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        if let Some(fleet) = &mut self.fleet {
            let statuses: Vec<_> = fleet.instances.iter_mut().map(|i| i.terminate()).collect();
            return statuses
                .iter()
                .rev()
                .find(|s| !s.success())
                .copied()
                .unwrap_or(statuses[statuses.len() - 1]);
        }
        let mut c = self.child.take().expect("server running");
        Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id, workerd's for the Worker (for its RSS).
    pub fn pid(&self) -> u32 {
        if let Some(fleet) = &self.fleet {
            return fleet.instances[0].pid();
        }
        self.child.as_ref().expect("the server runs").id()
    }

    /// `host:port`, for raw sockets.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The base URL of each process behind `base`: the instances on the redis target, else the
    /// server itself.
    pub fn instance_bases(&self) -> Vec<String> {
        match &self.fleet {
            Some(fleet) => fleet.bases(),
            None => vec![self.base.clone()],
        }
    }

    /// `SIGSTOP` (`stop = true`) or `SIGCONT` the process.
    pub fn signal_stop(&self, stop: bool) {
        let sig = if stop { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Whether `GET /healthz` on `addr` answers 200. A bare TCP connect is not proof: while nothing
/// listens on a port of the ephemeral range, a connect to it can pick that same port as its
/// source and connect to itself (TCP simultaneous open).
pub(crate) fn healthy(addr: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// `POST /v1/generations` with a demo request; returns the response body.
pub async fn create(server: &Server, blocks: u32, delay_ms: u64) -> Value {
    let res = http()
        .post(server.url("/v1/generations"))
        .json(&serde_json::json!({ "topic": "resumable streams", "blocks": blocks, "delayMs": delay_ms }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// `GET url` → its JSON body.
pub async fn get_json(url: &str) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

/// `POST /v1/streams` (checked to answer 201) → `{id, publishToken, eventsUrl, publishUrl, …}`.
pub async fn create_stream(server: &Server) -> Value {
    let res = http()
        .post(server.url("/v1/streams"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// `POST` of `body` to a publish URL with the bearer `token`.
pub async fn post_events(url: &str, token: &str, body: &Value) -> reqwest::Response {
    http()
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The number of events a demo generation of `blocks` blocks sends.
pub fn demo_events(blocks: u64) -> u64 {
    9 + 7 * blocks
}

/// One received event.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub id: String,
    pub event: String,
    pub data: Value,
    pub at: Instant,
}

impl Received {
    pub fn seq(&self) -> u64 {
        self.id.rsplit_once(':').unwrap().1.parse().unwrap()
    }
}

/// An open SSE response, read with the project's parser.
pub struct Sse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    res: reqwest::Response,
    parser: Parser,
    pending: std::collections::VecDeque<Item>,
    pub ended: bool,
}

impl Sse {
    /// Opens `url`, with `Last-Event-ID: last` when given.
    pub async fn open(url: &str, last: Option<&str>) -> Sse {
        let mut req = http().get(url);
        if let Some(last) = last {
            req = req.header("last-event-id", last);
        }
        Self::send(req).await
    }

    /// Sends `req` (a `GET` of an events URL, with whatever headers the test set) and opens
    /// its response as a stream.
    pub async fn send(req: reqwest::RequestBuilder) -> Sse {
        let res = req
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        Sse {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            res,
            parser: Parser::new(),
            pending: Default::default(),
            ended: false,
        }
    }

    /// The next item, or `None` at the end of the response.
    pub async fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            let chunk = tokio::time::timeout(PATIENCE, self.res.chunk())
                .await
                .expect("no bytes from the server in time");
            match chunk {
                Ok(Some(bytes)) => {
                    let mut out = Vec::new();
                    self.parser.feed(&bytes, &mut out);
                    self.pending.extend(out);
                }
                Ok(None) | Err(_) => self.ended = true,
            }
        }
    }

    /// The next event (skipping comments and retry hints), or `None` at the end.
    pub async fn next_event(&mut self) -> Option<Received> {
        while let Some(item) = self.next_item().await {
            if let Item::Event(e) = item {
                return Some(Received {
                    id: e.id,
                    event: e.event,
                    data: serde_json::from_str(&e.data).expect("data is JSON"),
                    at: Instant::now(),
                });
            }
        }
        None
    }

    /// Every event until the server ends the response.
    pub async fn collect(&mut self) -> Vec<Received> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event().await {
            out.push(e);
        }
        out
    }

    /// Reads the raw bytes until the end (for tests of the exact wire form).
    pub async fn raw(mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Ok(Some(b)) = tokio::time::timeout(PATIENCE, self.res.chunk())
            .await
            .expect("bytes in time")
        {
            out.extend_from_slice(&b);
        }
        out
    }
}

/// Asserts ids are `{stream}:1..n` in order, each once.
pub fn assert_sequence(events: &[Received], stream: &str, from: u64, to: u64) {
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let want: Vec<String> = (from..=to).map(|s| format!("{stream}:{s}")).collect();
    assert_eq!(ids, want);
}

/// Waits until `f` holds, polling.
pub async fn eventually<F: FnMut() -> bool>(mut f: F) {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < deadline, "condition not reached in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn error_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["error"]["code"].as_str().unwrap().to_string())
}

/// `250ms`, `2s` → milliseconds.
fn millis(value: &str) -> u64 {
    if let Some(ms) = value.strip_suffix("ms") {
        ms.parse().unwrap()
    } else if let Some(s) = value.strip_suffix('s') {
        s.parse::<u64>().unwrap() * 1000
    } else {
        value.parse().unwrap()
    }
}
