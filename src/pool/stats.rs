//! A snapshot of each pool of a group, for `ListPools` and metrics.

use std::fmt;

use deadpool::managed::Manager;

use super::{PoolGroup, PoolKey};

/// A snapshot of one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    pub kind: &'static str,
    /// The key with credentials hidden.
    pub key: String,
    pub max_size: usize,
    /// Connections open, idle and in use.
    pub size: usize,
    pub idle: usize,
    pub in_use: usize,
    pub waiters: usize,
    pub opened: u64,
    pub discarded: u64,
    pub requests: u64,
}

impl<K: PoolKey, M: Manager + 'static> PoolGroup<K, M>
where
    M::Error: fmt::Display,
{
    /// A snapshot of every pool.
    pub fn stats(&self) -> Vec<PoolStats> {
        self.lock()
            .iter()
            .map(|entry| {
                let status = entry.pool.status();
                PoolStats {
                    kind: self.kind,
                    key: entry.key.redacted(),
                    max_size: status.max_size,
                    size: status.size,
                    idle: status.available,
                    in_use: status.size.saturating_sub(status.available),
                    waiters: status.waiting,
                    opened: entry.counters.opened(),
                    discarded: entry.counters.discarded(),
                    requests: entry.counters.requests(),
                }
            })
            .collect()
    }
}
