//! The one keyed-pool mechanism behind every outbound connection pool (AMQP brokers,
//! HTTP hosts), after kombu's `PoolGroup`: equal keys share one pool, pools are created
//! on first use and open no socket until a connection is needed, their number is
//! capped (the least recently used idle pool is closed), and each counts what it did.
//!
//! Built on `deadpool`'s managed pools rather than from scratch: deadpool already
//! gives lazy creation, a size limit, waiter queues with FIFO or LIFO order, and
//! create/recycle/wait timeouts; what it lacks (keys, eviction, counters, redacted
//! names, one deadline per checkout) is added here.

mod counted;
mod group;

pub use counted::{Counted, Counters};
pub use group::{Acquire, AcquireError, Overflow, PoolGroup, PoolSettings, PoolStats, Pooled};

/// What pools are keyed by: normalised connection parameters.
pub trait PoolKey: Clone + Eq + std::hash::Hash + Send + Sync + 'static {
    /// The key as people may see it: credentials replaced by `***`.
    fn redacted(&self) -> String;
}
