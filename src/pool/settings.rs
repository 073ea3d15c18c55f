//! How each pool of a group behaves, and whether a checkout may wait.

use std::time::Duration;

/// How each pool of a group behaves.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections per pool, in use and idle together, unless
    /// [`PoolGroup::with_max_size_for`](super::PoolGroup::with_max_size_for) sets one
    /// per key.
    pub max_size: usize,
    /// Time allowed to open one connection.
    pub create_timeout: Duration,
    /// Time allowed for the health check of an idle connection on checkout; `None`
    /// when the check is local (no I/O) and needs no timer.
    pub recycle_timeout: Option<Duration>,
    /// LIFO hands out the most recently used idle connection first (warm, least
    /// likely dropped by the peer); FIFO spreads use over all of them.
    pub lifo: bool,
}

/// Whether a checkout may wait for a connection to be returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// Wait up to this long (one deadline for the wait, the open and the check).
    Blocking(Duration),
    /// Fail at once when the pool is at its limit.
    NonBlocking,
}
