//! SQLite's write-ahead log checkpointed in the background, beside the writers.

use std::time::Duration;

use sqlx::AnyPool;

use super::{Backend, Store};

impl Store {
    /// The background upkeep this database needs, for its owner to run: SQLite's
    /// checkpoints (the service turns SQLite's own off); nothing for PostgreSQL.
    pub fn maintenance(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        (self.backend == Backend::Sqlite).then(|| checkpoint_periodically(self.pool.clone()))
    }
}

/// Moves the SQLite write-ahead log into the database file every ten seconds, beside
/// the writers rather than inside one of their commits. Its fsync still slows commits
/// that overlap it, so it runs rarely: the log holds at most ten seconds of writes.
/// Ends when the pool closes.
async fn checkpoint_periodically(pool: AnyPool) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying in a second");
        }
    }
}
