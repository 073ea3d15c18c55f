//! The one keyed-pool mechanism behind every outbound connection pool (AMQP brokers,
//! HTTP hosts), after kombu's `PoolGroup`: equal keys share one pool, pools are created
//! on first use and open no socket until a connection is needed, their number is
//! capped (the least recently used idle pool is closed), and each counts what it did.
//!
//! Built on `deadpool`'s managed pools rather than from scratch: deadpool already
//! gives lazy creation, a size limit, waiter queues with FIFO or LIFO order, and
//! create/recycle/wait timeouts; what it lacks (keys, eviction, counters, redacted
//! names, one deadline per checkout) is added here.

mod checkout;
mod counted;
mod error;
mod eviction;
mod group;
mod key;
mod overflow;
mod settings;
mod stats;
#[cfg(test)]
mod tests;

pub use checkout::Pooled;
pub use counted::{Counted, Counters};
pub use error::AcquireError;
pub use group::PoolGroup;
pub use key::PoolKey;
pub use overflow::Overflow;
pub use settings::{Acquire, PoolSettings};
pub use stats::PoolStats;
