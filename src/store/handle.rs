//! The service's database handle: the pool, the backend in use, SQLite's write turn
//! and the writer lock's flag that every write checks first.

use std::sync::Arc;

use sqlx::AnyPool;

use super::{
    StoreError, WriterLock,
    commit_feed::{CommitFeed, CommitWatch},
    writer_lock::WriterFlag,
};

/// The database backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Sqlite,
    Postgres,
}

/// The service's database.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    /// SQLite has one writer: the recorder and the journal pruner take turns here, so
    /// the recorder waits for the few milliseconds a prune batch holds the database,
    /// not for SQLite's busy handler, which sleeps 1, 2, 5, 10 ms... between retries.
    pub(super) write_turn: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Set once the writer lock guards this store: every write checks it first.
    pub(super) writer: Option<WriterFlag>,
    /// Other hosts' commits, heard on PostgreSQL; SQLite holds one host.
    pub(super) commits: Option<CommitFeed>,
}

impl Store {
    /// This store, writing only while `lock` is held (a lost PostgreSQL session
    /// stops every write until the lock is taken again).
    #[must_use]
    pub fn guarded_by(mut self, lock: &WriterLock) -> Store {
        self.writer = Some(lock.flag());
        self
    }

    /// Waits for this process's turn to write, on SQLite; at once on PostgreSQL.
    pub(super) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_turn {
            Some(turn) => Some(turn.lock().await),
            None => None,
        }
    }

    /// Fails while the writer lock guarding this store is not held.
    pub(super) fn writable(&self) -> Result<(), StoreError> {
        self.writer.as_ref().map_or(Ok(()), WriterFlag::check)
    }

    /// Wakes at each commit of `hostname`'s lifecycle events by whichever agent
    /// records them: a hint to read, which can be lost (read on a timer as well).
    /// `None` on SQLite, where this agent is the only writer.
    #[must_use]
    pub fn commits_of(&self, hostname: &str) -> Option<CommitWatch> {
        self.commits.as_ref().map(|feed| feed.subscribe(hostname))
    }

    /// Closes every pooled connection and the listening session.
    pub async fn close(&self) {
        if let Some(feed) = &self.commits {
            feed.close();
        }
        self.pool.close().await;
    }
}
