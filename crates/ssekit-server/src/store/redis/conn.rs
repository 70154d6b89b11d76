//! The connections: one Redis (a connection manager) or a Redis Cluster (cluster-async), behind
//! one type for commands and one for pub/sub.
//!
//! Timeouts are deliberate:
//! - **Response: 3 s.** redis-rs' 500 ms default fails appends while Redis merely fsyncs under
//!   load (`appendfsync always` makes every write wait for the disk), and an append that timed
//!   out is ambiguous to its caller (applied or not?), so it should be rare. 3 s stays under a
//!   client's patience and under the renewal period of the default 10 s lease, so a renewal that
//!   hangs fails in time for the next one.
//! - **Connect: 2 s.** A Redis that does not accept within 2 s is down for our purposes; the
//!   caller is told (503, `/healthz`) rather than held.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, PushInfo, RedisFuture, RedisResult, Value};
use tokio::sync::mpsc::UnboundedSender;

/// How long a command may wait for its answer.
pub(super) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a connection attempt may take.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the store's Redis is.
#[derive(Debug, Clone)]
pub(super) enum Target {
    Single(String),
    Cluster(Vec<String>),
}

impl Target {
    pub fn is_cluster(&self) -> bool {
        matches!(self, Target::Cluster(_))
    }

    /// Each node's URL (one for a single Redis).
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Target::Single(url) => vec![url.clone()],
            Target::Cluster(nodes) => nodes.clone(),
        }
    }
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        // Reconnection attempts after a drop: two quick ones (about 0.1 s and 0.2 s later),
        // which absorb a restart or a failover of a few hundred ms. Every command waiting for
        // the connection waits for all of them, so they are few: while Redis is down an append
        // fails (503) in under a second instead of hanging, and the next command tries again,
        // so a Redis down for minutes is reached again once it is back. Owner appends retry on
        // their own until the lease would run out.
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
}

fn cluster_builder(nodes: &[String]) -> ClusterClientBuilder {
    ClusterClientBuilder::new(nodes.to_vec())
        .response_timeout(RESPONSE_TIMEOUT)
        .connection_timeout(CONNECT_TIMEOUT)
        // Redirects (MOVED/ASK) and reconnects count as retries (one count: they cannot be
        // told apart). An append whose answer was lost may be sent again by one: owner appends
        // carry a batch number the script checks, every other append a random call id it
        // records for a while (`StreamKeys::call`), so neither is applied twice. Six, not
        // fewer: after every connection was cut, a retry is re-queued at once while the client
        // reconnects from the seed nodes, and three were spent before it had (the first read
        // after a storm of CLIENT KILLs failed with ClusterConnectionNotFound in 3 runs of 3;
        // with six, 0 of 3). The response timeout still bounds the whole request.
        .retries(6)
}

/// The command connection (cheap to clone: clones share one multiplexed connection).
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    /// Opens lazily: the connection is made by the first command (and remade after a drop).
    pub fn open(target: &Target) -> RedisResult<Self> {
        Ok(match target {
            Target::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                Conn::Single(ConnectionManager::new_lazy_with_config(
                    client,
                    manager_config(),
                )?)
            }
            Target::Cluster(nodes) => {
                let client = cluster_builder(nodes).build()?;
                Conn::Cluster(client.get_pending_async_connection_with_config(Default::default()))
            }
        })
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The pub/sub connection: RESP3, so messages arrive as pushes on `pushes`, together with a
/// `Disconnection` push whenever the connection drops (the manager then reconnects and
/// subscribes again on its own). On a single Redis, plain SUBSCRIBE; on Cluster, sharded
/// SSUBSCRIBE (the channel lives on the node of the stream's slot, and SPUBLISH reaches only
/// that node's subscribers, not the whole cluster bus).
#[derive(Clone)]
pub(super) enum PubSub {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl PubSub {
    pub fn open(target: &Target, pushes: UnboundedSender<PushInfo>) -> RedisResult<Self> {
        Ok(match target {
            Target::Single(url) => {
                let mut info: redis::ConnectionInfo = url.as_str().parse()?;
                let redis_info = info.redis_settings().clone();
                info =
                    info.set_redis_settings(redis_info.set_protocol(redis::ProtocolVersion::RESP3));
                let client = redis::Client::open(info)?;
                let config = manager_config()
                    .set_push_sender(pushes)
                    .set_automatic_resubscription();
                PubSub::Single(ConnectionManager::new_lazy_with_config(client, config)?)
            }
            Target::Cluster(nodes) => {
                let client = cluster_builder(nodes)
                    .use_protocol(redis::ProtocolVersion::RESP3)
                    .push_sender(pushes)
                    .build()?;
                PubSub::Cluster(client.get_pending_async_connection_with_config(Default::default()))
            }
        })
    }

    pub async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            PubSub::Single(c) => c.subscribe(channel).await,
            PubSub::Cluster(c) => c.ssubscribe(channel).await,
        }
    }

    pub async fn unsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            PubSub::Single(c) => c.unsubscribe(channel).await,
            PubSub::Cluster(c) => c.sunsubscribe(channel).await,
        }
    }

    /// A PING on the connection: makes a dropped one reconnect (and subscribe again).
    pub async fn ping(&mut self) -> RedisResult<()> {
        let cmd = redis::cmd("PING");
        match self {
            PubSub::Single(c) => cmd.query_async::<Value>(c).await.map(drop),
            PubSub::Cluster(c) => cmd.query_async::<Value>(c).await.map(drop),
        }
    }
}
