//! A real `redis-server` (or a 3-master Redis Cluster) on a free loopback port (never 6379),
//! killed when dropped. The tests need the real thing: on a machine without `redis-server` they
//! fail, saying why, rather than pass unchecked.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, PATIENCE};

/// What a test run on a machine without Redis says.
const NOT_INSTALLED: &str =
    "redis-server is not installed: `apt-get install redis-server` (scripts/test does)";

/// A free port whose cluster bus port (+10000) is free too: any Redis may become a cluster node.
fn free_port_pair() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// One `redis-server`: AOF on, `appendfsync always`, no RDB snapshots, its files in `dir`.
pub struct Redis {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where it keeps its AOF (and a cluster node its `nodes.conf`).
    pub dir: PathBuf,
    extra: Vec<String>,
    _scratch: Option<tempfile::TempDir>,
}

impl Redis {
    /// A Redis keeping its files in `dir` (a scratch directory when `None`), with `extra`
    /// arguments after the defaults (a later one wins): a Redis started again on the same
    /// directory loads what the previous one acknowledged.
    pub fn start(dir: Option<&Path>, extra: &[&str]) -> Redis {
        let (scratch, dir) = match dir {
            Some(d) => (None, d.to_path_buf()),
            None => {
                let t = tempfile::tempdir().unwrap();
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        let mut redis = Redis {
            child: None,
            port: free_port_pair(),
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _scratch: scratch,
        };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", ""])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| match e.kind() {
                ErrorKind::NotFound => panic!("{NOT_INSTALLED}"),
                _ => panic!("redis-server does not start: {e}"),
            });
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(reply) = self.try_cli(&["PING"]) {
                if reply.trim() == "PONG" {
                    return;
                }
            }
            assert!(
                self.child.as_mut().unwrap().try_wait().unwrap().is_none(),
                "redis-server exited on port {}",
                self.port
            );
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// `redis://127.0.0.1:PORT`, for `ssekit serve --store` or `RedisStore::open`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A command through `redis-cli`: its reply as redis-cli prints it (an error reply too),
    /// `Err` when redis-cli could not reach the server.
    pub fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        try_cli(self.port, args)
    }

    /// [`Redis::try_cli`] that panics when the server cannot be reached.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    /// `kill -9`: the AOF holds what was fsynced, nothing else.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and directory (after `kill9`).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("redis runs").id()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// [`Redis::try_cli`] by port, for a thread or task that cannot borrow the [`Redis`].
pub fn try_cli(port: u16, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() || text.starts_with("Could not connect") {
        return Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(text)
}

/// [`Redis::cli`] by port, for a thread or task that cannot borrow the [`Redis`].
pub fn cli(port: u16, args: &[&str]) -> String {
    try_cli(port, args).unwrap_or_else(|e| panic!("redis-cli -p {port} {args:?}: {e}"))
}

/// A Redis Cluster of three masters (no replicas), every slot assigned, `cluster_state:ok` on
/// each node.
pub struct RedisCluster {
    /// The masters, each a [`Redis`] of its own.
    pub nodes: Vec<Redis>,
}

impl RedisCluster {
    /// Three cluster nodes, each with `extra` arguments (`--cluster-node-timeout`, say), joined
    /// by `redis-cli --cluster create`.
    pub fn start(extra: &[&str]) -> RedisCluster {
        let nodes: Vec<Redis> = (0..3)
            .map(|_| {
                // Each node writes its cluster config into its own directory.
                let mut args = vec![
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ];
                args.extend_from_slice(extra);
                Redis::start(None, &args)
            })
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(addrs(&nodes))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let deadline = Instant::now() + PATIENCE;
        while !nodes
            .iter()
            .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        {
            assert!(Instant::now() < deadline, "the cluster did not converge");
            std::thread::sleep(Duration::from_millis(100));
        }
        RedisCluster { nodes }
    }

    /// `redis-cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, for `ssekit serve --store`.
    pub fn url(&self) -> String {
        format!("redis-cluster://{}", addrs(&self.nodes).join(","))
    }

    /// Each node's `redis://127.0.0.1:PORT`, for `RedisStore::open_cluster`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Redis::url).collect()
    }

    /// Each node's port.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }
}

/// Each node's `127.0.0.1:PORT`, as `redis-cli --cluster create` and the store URL list them.
fn addrs(nodes: &[Redis]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect()
}
