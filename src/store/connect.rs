//! Connecting: the backend chosen by the URL, an SQLite file (and its folder) created
//! when missing and tuned for one writer beside readers, the schema migrated.

use std::{str::FromStr, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

use super::{Backend, Store, StoreError};
use super::{Settings, commit_feed::CommitFeed};
use crate::secret::Secret;

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
        let pool = pool_options(backend, config.max_connections)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        migrator(backend).run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            write_turn: (backend == Backend::Sqlite).then(Default::default),
            writer: None,
            commits: (backend == Backend::Postgres)
                .then(|| CommitFeed::new(Secret::new(url.clone()))),
        })
    }
}

/// The schema's migrations for `backend`. Agents of several versions share one
/// PostgreSQL during a rolling update, and every migration is additive: an agent
/// finding migrations newer than its own runs on (`ignore_missing`) rather than
/// refusing a schema it can use.
fn migrator(backend: Backend) -> Migrator {
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator
}

/// The pool's options for `backend`: its size and, on SQLite, each connection's
/// pragmas.
fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
    let max = match backend {
        // SQLite allows one writer; more connections only queue inside SQLite.
        Backend::Sqlite => max_connections.min(4),
        Backend::Postgres => max_connections,
    };
    let pool_options = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10));
    if backend != Backend::Sqlite {
        return pool_options;
    }
    // WAL lets readers (List/Watch) run beside the event writer; NORMAL
    // synchronisation fsyncs at checkpoints instead of at every commit. A power
    // loss can then drop the last moments of events, never corrupt the file;
    // reconciliation at the next start reports the state they led to.
    // Checkpoints (and their fsyncs) run in the background, not inside the
    // commit that happens to cross the threshold: that commit would otherwise
    // hold lifecycle events back from watchers for tens of milliseconds.
    pool_options.after_connect(|conn, _| {
        Box::pin(async move {
            sqlx::raw_sql(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0",
            )
            .execute(conn)
            .await
            .map(drop)
        })
    })
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
