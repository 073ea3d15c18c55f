//! One writer per (database, hostname): the lock a second instance of the same host
//! waits for, so two agents never both record events or flip the host's state.
//!
//! - SQLite: an exclusive `flock` on `<database file>.lock`, which holds the holder's
//!   pid, node and start time for whoever waits. The kernel releases it when the
//!   process dies, however it dies.
//! - PostgreSQL: a session advisory lock, keyed by a stable hash of the hostname, on a
//!   dedicated connection named (`application_name`) after its holder, so a waiter
//!   finds it through `pg_locks` and `pg_stat_activity`. If that connection drops, the
//!   server releases the lock: writes stop at once (the store refuses them) until the
//!   lock is re-taken on a new connection. If another instance took it meanwhile, this
//!   one has lost its place and [`WriterLock::lost`] says to whom.

mod backend;
mod file;
mod flag;
mod holder;
mod lock;
mod session;

pub(crate) use backend::RETRY as WRITER_LOCK_RETRY;
pub(crate) use flag::WriterFlag;
pub use lock::{LockError, WriterLock};
