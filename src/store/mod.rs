//! Persistence with sqlx: SQLite embedded by default, PostgreSQL in production.
//!
//! One `Any` pool runs the same `$1`-placeholder SQL on both backends; the schema
//! lives in `migrations/<backend>/` because column types differ between them.

mod events;
mod hosts;
mod journal;
mod outbox;
mod settings;
mod writer_lock;

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    AnyPool,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

pub use events::{EventQuery, KnownChanges};
pub use hosts::{AUTO_PREFIX, HostRecord};
pub use journal::Retention;
pub use outbox::{
    Delivery, DeliveryCounts, DeliveryState, NewNotification, Outbox, OutboxRow, prune_periodically,
};
pub use settings::Settings;
pub use writer_lock::{LockError, WriterLock};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The database backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A failed database operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Open(String),
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("host {0:?} has no row in the database")]
    HostMissing(String),
    #[error("unexpected data in the database: {0}")]
    Corrupt(String),
    #[error(
        "this instance does not hold the writer lock for its host right now; writes are refused until it does"
    )]
    NotWriter,
}

/// The service's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer: the recorder and the journal pruner take turns here, so
    /// the recorder waits for the few milliseconds a prune batch holds the database,
    /// not for SQLite's busy handler, which sleeps 1, 2, 5, 10 ms... between retries.
    write_turn: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Set once the writer lock guards this store: every write checks it first.
    writer: Option<writer_lock::WriterFlag>,
}

impl Store {
    /// Connects, creating an SQLite file (and its folder) if missing, and migrates.
    ///
    /// # Errors
    /// The database cannot be reached or its schema cannot be brought up to date.
    pub async fn connect(config: &Settings) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = config.url.expose();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        // sqlx's errors never print the URL, but ours must not either: no `{url}` here.
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Open(format!("invalid database.url: {e}")))?;
        let max = match backend {
            // SQLite allows one writer; more connections only queue inside SQLite.
            Backend::Sqlite => config.max_connections.min(4),
            Backend::Postgres => config.max_connections,
        };
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            // WAL lets readers (List/Watch) run beside the event writer; NORMAL
            // synchronisation fsyncs at checkpoints instead of at every commit. A power
            // loss can then drop the last moments of events, never corrupt the file;
            // reconciliation at the next start reports the state they led to.
            // Checkpoints (and their fsyncs) run in the background, not inside the
            // commit that happens to cross the threshold: that commit would otherwise
            // hold lifecycle events back from watchers for tens of milliseconds.
            pool_options = pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0",
                    )
                    .execute(conn)
                    .await
                    .map(drop)
                })
            });
        }
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        match backend {
            Backend::Sqlite => {
                SQLITE_MIGRATIONS.run(&pool).await?;
                tokio::spawn(checkpoint_periodically(pool.clone()));
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store {
            pool,
            backend,
            write_turn: (backend == Backend::Sqlite).then(Default::default),
            writer: None,
        })
    }

    /// This store, writing only while `lock` is held (a lost PostgreSQL session
    /// stops every write until the lock is taken again).
    #[must_use]
    pub fn guarded_by(mut self, lock: &WriterLock) -> Store {
        self.writer = Some(lock.flag());
        self
    }

    /// Waits for this process's turn to write, on SQLite; at once on PostgreSQL.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_turn {
            Some(turn) => Some(turn.lock().await),
            None => None,
        }
    }

    /// Fails while the writer lock guarding this store is not held.
    fn writable(&self) -> Result<(), StoreError> {
        self.writer
            .as_ref()
            .map_or(Ok(()), writer_lock::WriterFlag::check)
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
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

/// Adds `mode=rwc` (create if missing) and WAL journaling, and creates the folder.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Open(
            "database.url must name an SQLite file (an in-memory database would not persist)"
                .into(),
        ));
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", params.join("&")))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file_when_missing() {
        assert_eq!(
            prepare_sqlite_url("sqlite://rel/x.db").ok().as_deref(),
            Some("sqlite://rel/x.db?mode=rwc")
        );
        assert_eq!(
            prepare_sqlite_url("sqlite:///tmp/x.db?mode=ro")
                .ok()
                .as_deref(),
            Some("sqlite:///tmp/x.db?mode=ro")
        );
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }
}
