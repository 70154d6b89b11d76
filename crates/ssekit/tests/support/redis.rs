//! Several instances on Redis: a `redis-server` (`ssekit_testkit::redis`, shared with the redis
//! store's own tests) and nginx in front of `ssekit serve` instances, each on a free loopback
//! port, killed when dropped. nginx's configuration is `deploy/nginx.conf` itself, with its
//! listen address, instance list and paths rewritten: the tests prove the file the README tells
//! users to run.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ssekit_testkit::redis::Redis;

use super::{free_port, healthy, PATIENCE};

fn wait_exit(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// nginx in front of `upstreams` (host:port each), configured by `deploy/nginx.conf`.
pub struct Nginx {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

/// `deploy/nginx.conf` for a listen port and instance list: the lines marked `# instance` in
/// its upstream block become `upstreams`, its `listen` the given port.
pub fn nginx_conf(port: u16, upstreams: &[String]) -> String {
    let conf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/nginx.conf"
    ))
    .expect("deploy/nginx.conf");
    let mut out = String::new();
    let mut placed = false;
    for line in conf.lines() {
        if line.trim_end().ends_with("# instance") {
            if !placed {
                let indent = &line[..line.len() - line.trim_start().len()];
                // The options of the file's first instance line, for each instance.
                let options = line
                    .trim()
                    .trim_end_matches("# instance")
                    .trim()
                    .trim_end_matches(';')
                    .split_whitespace()
                    .skip(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                for u in upstreams {
                    out.push_str(&format!("{indent}server {u} {options};\n"));
                }
                placed = true;
            }
            continue;
        }
        if line.trim_start().starts_with("listen ") {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!("{indent}listen 127.0.0.1:{port};\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(placed, "deploy/nginx.conf marks no `# instance` line");
    out
}

impl Nginx {
    pub fn start(upstreams: &[String]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        // nginx started as root runs its workers as `nobody`: they must reach their temp paths.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let port = free_port();
        std::fs::write(dir.path().join("nginx.conf"), nginx_conf(port, upstreams)).unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .args(["-e", "stderr", "-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx (apt-get install nginx)");
        let mut nginx = Nginx {
            child: Some(child),
            port,
            dir,
        };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                nginx.child.as_mut().unwrap().try_wait().unwrap().is_none(),
                "nginx exited"
            );
            assert!(Instant::now() < deadline, "nginx did not listen");
            std::thread::sleep(Duration::from_millis(30));
        }
        nginx
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (a SIGKILLed master leaves them running).
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            wait_exit(&mut c);
        }
    }
}

/// The instances' shared parts when `SSEKIT_TARGET=redis`.
pub struct Fleet {
    pub redis: Redis,
    pub instances: Vec<super::Server>,
    pub nginx: Nginx,
}

/// How many instances the redis target runs behind nginx.
pub const FLEET: usize = 3;

impl Fleet {
    /// `FLEET` instances of `ssekit serve --store redis://… ARGS` (any `--store` of `args`
    /// dropped) on one Redis keeping its data in `data` (a scratch directory when `None`), behind
    /// nginx round-robin.
    pub fn start(args: &[String], data: Option<&Path>) -> Fleet {
        let redis = Redis::start(data, &[]);
        let mut own = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--store" {
                it.next();
            } else if !a.starts_with("--store=") {
                own.push(a.clone());
            }
        }
        let mut with_store = vec!["--store".to_string(), redis.url()];
        with_store.extend(own);
        let instances: Vec<super::Server> = (0..FLEET)
            .map(|_| {
                super::Server::native_at(
                    &format!("127.0.0.1:{}", free_port()),
                    with_store.clone(),
                    None,
                )
            })
            .collect();
        let upstreams: Vec<String> = instances.iter().map(|s| s.addr()).collect();
        let nginx = Nginx::start(&upstreams);
        // Every instance answers through nginx before the test starts.
        let deadline = Instant::now() + PATIENCE;
        while !healthy(&format!("127.0.0.1:{}", nginx.port)) {
            assert!(
                Instant::now() < deadline,
                "nginx did not reach the instances"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
        Fleet {
            redis,
            instances,
            nginx,
        }
    }

    /// The instances' own base URLs (not through nginx).
    pub fn bases(&self) -> Vec<String> {
        self.instances.iter().map(|s| s.base.clone()).collect()
    }
}
