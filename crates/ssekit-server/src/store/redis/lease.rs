//! Ownership of generations: leases, renewal, and the sweep that ends orphans.
//!
//! The instance that creates a generation owns it: its hash holds the owner id
//! (`<hostname>-<pid>-<boot nonce>`, so a restarted process is a new owner), a fencing token and
//! a lease deadline in Redis `TIME`. The store renews the leases of the generations it created
//! every lease/3 and appends to them as their owner: the append script refuses an owner append
//! whose owner, token or deadline no longer holds (`NotOwner`: the pipeline stops, writing
//! nothing). Any instance sweeps: a generation whose deadline has passed gets the terminal from
//! the same append script, which re-checks the deadline and that the stream still runs, so
//! sweepers racing each other write one terminal.

use std::collections::HashMap;
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use rand::Rng;

use super::keys::StreamKeys;
use super::Inner;

/// A generation this instance owns.
pub(super) struct Owned {
    /// The fencing token of the ownership, as the stream's hash holds it.
    pub token: String,
    /// The next batch number; held across an owner append, so they go one at a time.
    pub batch: tokio::sync::Mutex<u64>,
    pub state: Mutex<OwnedState>,
}

pub(super) struct OwnedState {
    /// Until when (local clock) the lease surely holds: the start of the last successful
    /// renewal (or creation) plus the lease. Owner appends are retried until then.
    pub valid_until: Instant,
    /// Renewal was refused: the lease is gone, appends are refused here already.
    pub lost: bool,
}

impl Owned {
    pub fn new(token: String, valid_until: Instant) -> Self {
        Self {
            token,
            batch: tokio::sync::Mutex::new(1),
            state: Mutex::new(OwnedState {
                valid_until,
                lost: false,
            }),
        }
    }

    pub fn valid_until(&self) -> Instant {
        self.state.lock().expect("lease lock").valid_until
    }

    pub fn lost(&self) -> bool {
        self.state.lock().expect("lease lock").lost
    }
}

/// This boot's owner id: `<hostname>-<pid>-<random nonce>`.
pub(super) fn owner_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let nonce: u64 = rand::thread_rng().gen();
    format!("{host}-{}-{nonce:016x}", std::process::id())
}

/// How often the sweep runs: a second, or a quarter of a shorter lease.
pub(super) fn sweep_every(lease: Duration) -> Duration {
    (lease / 4).min(Duration::from_secs(1))
}

/// Renews the leases of the generations this instance owns, every lease/3, until the store is
/// dropped.
pub(super) async fn renew_loop(inner: Weak<Inner>, lease: Duration) {
    let mut tick = tokio::time::interval((lease / 3).max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let owned: HashMap<String, std::sync::Arc<Owned>> =
            inner.owned.lock().expect("owned lock").clone();
        let renewals = owned.into_iter().map(|(id, o)| {
                let inner = &inner;
                async move {
                    if o.lost() {
                        // Kept (its appends refused here) until the generation has ended.
                        forget_if_ended(inner, &id, &o).await;
                        return;
                    }
                    let started = Instant::now();
                    match renew(inner, &id, &o.token).await {
                        Ok(Some(deadline)) => {
                            o.state.lock().expect("lease lock").valid_until = started + lease;
                            let mut conn = inner.conn.clone();
                            let _: Result<(), _> = redis::cmd("ZADD")
                                .arg(&inner.idx.leases)
                                .arg("XX")
                                .arg(deadline)
                                .arg(&id)
                                .query_async(&mut conn)
                                .await;
                        }
                        Ok(None) => {
                            tracing::warn!(stream = %id, "lost the lease of a generation; its appends are refused");
                            o.state.lock().expect("lease lock").lost = true;
                            forget_if_ended(inner, &id, &o).await;
                        }
                        Err(e) => {
                            tracing::warn!(stream = %id, error = %e, "renewing a lease failed; retrying");
                        }
                    }
                }
            });
        futures_util::future::join_all(renewals).await;
    }
}

/// Renews one lease: its new deadline, or `None` if it is lost.
async fn renew(inner: &Inner, id: &str, token: &str) -> redis::RedisResult<Option<u64>> {
    let keys = StreamKeys::new(&inner.prefix, id);
    let mut conn = inner.conn.clone();
    let deadline: u64 = inner
        .scripts
        .renew
        .key(&keys.meta)
        .arg(&inner.owner)
        .arg(token)
        .arg(inner.lease.as_millis() as u64)
        .invoke_async(&mut conn)
        .await?;
    Ok((deadline > 0).then_some(deadline))
}

/// Drops a lost generation from the owned ones once it has ended (or is gone): until then it is
/// kept, so this instance's appends to it stay refused instead of becoming unconditional ones.
async fn forget_if_ended(inner: &Inner, id: &str, o: &std::sync::Arc<Owned>) {
    let keys = StreamKeys::new(&inner.prefix, id);
    let mut conn = inner.conn.clone();
    let status: redis::RedisResult<Option<String>> = redis::cmd("HGET")
        .arg(&keys.meta)
        .arg("status")
        .query_async(&mut conn)
        .await;
    if matches!(&status, Ok(s) if s.as_deref() != Some("running")) {
        inner.forget_owned(id, o);
    }
}
