//! What the integration tests of several ssekit crates share, so that one copy serves: the
//! redis store's own tests (`ssekit-server`) and the several-instances suites (`ssekit`) start
//! the same [`redis::Redis`] and [`redis::RedisCluster`], as hyper's integration tests share
//! their `support/` module. A crate's `tests/` folder cannot be reached from another crate's
//! tests, hence a crate; it is a dev-dependency only and never published.

pub mod redis;

use std::time::Duration;

/// Generous: these machines are shared and slow; tests assert behaviour, not speed.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A loopback port nothing listens on, below the kernel's ephemeral range: a port from that
/// range (what binding port 0 hands out) may be taken as the source of some test's outgoing
/// connection before the server the test starts binds it.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id().rotate_left(16);
    for _ in 0..1000 {
        // xorshift: any spread will do, the bind below is the real check.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let port = 10_000 + seed % low.saturating_sub(10_000).max(1);
        if std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
