//! Persistence with sqlx: SQLite embedded by default, PostgreSQL in production.
//!
//! One `Any` pool runs the same `$1`-placeholder SQL on both backends; the schema
//! lives in `migrations/<backend>/` because column types differ between them.

mod checkpoint;
mod clock;
mod commit_feed;
mod connect;
mod error;
mod events;
mod fleet;
mod handle;
mod hosts;
mod idempotency;
mod in_transaction;
mod journal;
mod one_statement;
mod outbox;
mod settings;
mod writer_lock;

pub(crate) use clock::now_millis;
pub use commit_feed::{Announced, CommitWatch};
pub use error::StoreError;
pub use events::{EventQuery, KnownChanges};
pub use fleet::{Heartbeat, HostQuery};
use handle::Backend;
pub use handle::Store;
pub use hosts::{AUTO_PREFIX, HostRecord};
pub use idempotency::Claim;
pub use journal::Retention;
pub use outbox::{
    Delivery, DeliveryCounts, DeliveryState, NewNotification, Outbox, OutboxRow, prune_periodically,
};
pub use settings::Settings;
pub(crate) use writer_lock::WRITER_LOCK_RETRY;
pub use writer_lock::{LockError, WriterLock};
