//! Where the lock lives (a lock file beside the SQLite database, or a PostgreSQL
//! session), taking it once, and holding it once taken.

use std::{fs::File, path::PathBuf, str::FromStr, time::Duration};

use sqlx::{PgConnection, postgres::PgConnectOptions};
use tokio::sync::watch;

use super::{
    WriterFlag,
    file::try_lock_file,
    holder::session_name,
    lock::{Hold, LockError, WriterLock},
    session::{advisory_key, keep_session, try_lock_session},
};

/// How often a waiting instance tries the lock again, and how often the holder checks
/// that its dedicated connection is alive.
pub(crate) const RETRY: Duration = Duration::from_millis(500);

/// Where the lock lives.
#[derive(Debug, Clone)]
pub(super) enum Backend {
    File {
        path: PathBuf,
        hostname: String,
    },
    Postgres {
        options: Box<PgConnectOptions>,
        key: i64,
    },
}

/// A lock just taken.
pub(super) enum Held {
    File(File),
    Session(PgConnection),
}

impl Backend {
    pub(super) fn new(url: &str, hostname: &str) -> Result<Backend, LockError> {
        if url.starts_with("sqlite:") {
            let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = rest.split_once('?').map_or(rest, |(path, _)| path);
            if path.is_empty() || path == ":memory:" {
                return Err(LockError::Failed(
                    "database.url must name an SQLite file (an in-memory database would not persist)"
                        .into(),
                ));
            }
            return Ok(Backend::File {
                path: PathBuf::from(format!("{path}.lock")),
                hostname: hostname.to_owned(),
            });
        }
        // sqlx's parse errors never echo the URL, which may hold a password.
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| LockError::Failed(format!("invalid database.url: {e}")))?
            .application_name(&session_name());
        Ok(Backend::Postgres {
            options: Box::new(options),
            key: advisory_key(hostname),
        })
    }

    /// Takes the lock if it is free; otherwise describes its holder.
    pub(super) async fn try_take(&self) -> Result<Result<Held, String>, LockError> {
        match self {
            Backend::File { path, hostname } => {
                let path = path.clone();
                let hostname = hostname.clone();
                tokio::task::spawn_blocking(move || try_lock_file(&path, &hostname))
                    .await
                    .map_err(|e| LockError::Failed(e.to_string()))?
            }
            Backend::Postgres { options, key } => try_lock_session(options, *key).await,
        }
    }

    pub(super) fn hold(self, held: Held) -> WriterLock {
        let flag = WriterFlag::default();
        flag.set(true);
        let (lost_tx, lost) = watch::channel(None);
        let hold = match (held, self) {
            (Held::Session(conn), Backend::Postgres { options, key }) => Hold::Session(
                tokio::spawn(keep_session(*options, key, conn, flag.clone(), lost_tx)),
            ),
            (Held::File(file), _) => Hold::File(file),
            (Held::Session(_), Backend::File { .. }) => {
                unreachable!("a session lock comes from PostgreSQL")
            }
        };
        WriterLock { flag, lost, hold }
    }
}
