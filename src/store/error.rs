//! A failed database operation.

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
