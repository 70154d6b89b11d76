//! Where a stream lives in Redis. Every key of stream `<id>` carries the hash tag `{<id>}`, so
//! they share one Cluster slot and one script can touch them all; the indexes each have a slot
//! of their own.

/// The keys and channel of one stream.
pub(super) struct StreamKeys {
    /// Hash: kind, info, created_at, status, last_seq, finished_at; for an owned generation
    /// owner, token (fencing), deadline (lease, Redis TIME ms), obatch/ofirst/on (the last owner
    /// batch applied, so a retry of it is answered, not applied twice).
    pub meta: String,
    /// Redis Stream of the events: entry id `<seq>-0`, fields `k` (name), `d` (payload JSON),
    /// `t` (on the terminal event), `b` (on the last event of an append).
    pub events: String,
    /// Hash: idempotency key → `<first seq>:<count>`.
    pub idem: String,
    /// Set when the stream ends, for retention + the tombstone time: an expired id answers 410.
    pub tomb: String,
    /// The pub/sub channel of wake-ups (`<first>:<last>` of each append).
    pub live: String,
    /// `<prefix>:{<id>}:`, for the keys of single calls.
    base: String,
}

impl StreamKeys {
    pub fn new(prefix: &str, id: &str) -> Self {
        let key = |part: &str| format!("{prefix}:{{{id}}}:{part}");
        Self {
            meta: key("meta"),
            events: key("events"),
            idem: key("idem"),
            tomb: key("gone"),
            live: key("live"),
            base: key(""),
        }
    }

    /// String, kept for a short while: the first position of the append made by call `call`
    /// (a random id), so the same call sent again is answered, not applied twice.
    pub fn call(&self, call: u64) -> String {
        format!("{}call:{call:016x}", self.base)
    }

    /// The four keys every stream script takes, in its order.
    pub fn all(&self) -> [&str; 4] {
        [&self.meta, &self.events, &self.idem, &self.tomb]
    }
}

/// The indexes: candidates only, each re-checked against the stream's own hash.
pub(super) struct Indexes {
    /// Sorted set: owned generation → lease deadline (ms), for the sweep.
    pub leases: String,
    /// Sorted set: running stream → created_at, for `running`.
    pub running: String,
    /// Sorted set: finished stream → finished_at, for `expire`.
    pub finished: String,
}

impl Indexes {
    pub fn new(prefix: &str) -> Self {
        Self {
            leases: format!("{prefix}:{{leases}}"),
            running: format!("{prefix}:{{running}}"),
            finished: format!("{prefix}:{{finished}}"),
        }
    }
}

/// The stream id in a channel name `<prefix>:{<id>}:live`.
pub(super) fn stream_of_channel<'a>(prefix: &str, channel: &'a str) -> Option<&'a str> {
    channel
        .strip_prefix(prefix)?
        .strip_prefix(":{")?
        .strip_suffix("}:live")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_stream_shares_its_hash_tag() {
        let k = StreamKeys::new("ssekit", "abc");
        assert_eq!(k.meta, "ssekit:{abc}:meta");
        assert_eq!(k.live, "ssekit:{abc}:live");
        assert!(k.all().iter().all(|key| key.contains("{abc}")));
        assert_eq!(k.call(0xab), "ssekit:{abc}:call:00000000000000ab");
        assert_eq!(stream_of_channel("ssekit", &k.live), Some("abc"));
        assert_eq!(Indexes::new("ssekit").leases, "ssekit:{leases}");
    }
}
