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

use std::{
    fs::{File, TryLockError},
    io::{Read, Seek, Write},
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use sqlx::{Connection, PgConnection, Row, postgres::PgConnectOptions};
use tokio::sync::watch;
use tracing::{info, warn};

use super::Settings;
use super::StoreError;

/// How often a waiting instance tries the lock again, and how often the holder checks
/// that its dedicated connection is alive.
const RETRY: Duration = Duration::from_millis(500);
/// How long the holder's connection may take to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the writer lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another virtplane instance is the writer for host {hostname:?} on this database \
         ({holder}); gave up after {waited:.1?} (--lock-timeout)"
    )]
    Timeout {
        hostname: String,
        holder: String,
        waited: Duration,
    },
    #[error("cannot take the writer lock: {0}")]
    Failed(String),
}

/// Whether this instance may write: shared by the lock and the store's write paths.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriterFlag(Arc<AtomicBool>);

impl WriterFlag {
    /// # Errors
    /// [`StoreError::NotWriter`] while the lock is not held.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if self.0.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(StoreError::NotWriter)
        }
    }

    fn set(&self, held: bool) {
        self.0.store(held, Ordering::Release);
    }
}

/// The held writer lock. SQLite's is released when this is dropped; PostgreSQL's when
/// its keeper task, aborted on drop, closes the dedicated connection.
#[derive(Debug)]
pub struct WriterLock {
    flag: WriterFlag,
    lost: watch::Receiver<Option<String>>,
    hold: Hold,
}

#[derive(Debug)]
enum Hold {
    File(#[allow(dead_code, reason = "held open: the flock lives as long as the file")] File),
    Session(tokio::task::JoinHandle<()>),
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if let Hold::Session(task) = &self.hold {
            task.abort();
        }
    }
}

impl WriterLock {
    /// Takes the lock for `hostname`, waiting for it (at most `timeout`, if given)
    /// while another instance holds it; `waiting` is called once with the holder.
    ///
    /// # Errors
    /// [`LockError::Timeout`] naming the holder, or the database cannot be reached.
    pub async fn acquire(
        database: &Settings,
        hostname: &str,
        timeout: Option<Duration>,
        mut waiting: impl FnMut(&str) + Send,
    ) -> Result<WriterLock, LockError> {
        let backend = Backend::new(database.url.expose(), hostname)?;
        let started = tokio::time::Instant::now();
        let mut told = false;
        loop {
            match backend.try_take().await? {
                Ok(held) => return Ok(backend.hold(held)),
                Err(holder) => {
                    if timeout.is_some_and(|t| started.elapsed() >= t) {
                        return Err(LockError::Timeout {
                            hostname: hostname.to_owned(),
                            holder,
                            waited: started.elapsed(),
                        });
                    }
                    if !told {
                        waiting(&holder);
                        told = true;
                    }
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    pub(crate) fn flag(&self) -> WriterFlag {
        self.flag.clone()
    }

    /// Resolves with the new holder once this instance lost the lock to another one;
    /// never while it holds it or may take it back.
    pub async fn lost(&self) -> String {
        let mut lost = self.lost.clone();
        // The guard is dropped here, before any other await.
        let holder = lost
            .wait_for(Option::is_some)
            .await
            .map(|holder| holder.clone().unwrap_or_default());
        match holder {
            Ok(holder) => holder,
            // The keeper ended without losing the lock: the service is stopping.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Where the lock lives.
#[derive(Debug, Clone)]
enum Backend {
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
enum Held {
    File(File),
    Session(PgConnection),
}

impl Backend {
    fn new(url: &str, hostname: &str) -> Result<Backend, LockError> {
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
    async fn try_take(&self) -> Result<Result<Held, String>, LockError> {
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

    fn hold(self, held: Held) -> WriterLock {
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

fn try_lock_file(
    path: &std::path::Path,
    hostname: &str,
) -> Result<Result<Held, String>, LockError> {
    let failed = |e: std::io::Error| LockError::Failed(format!("{}: {e}", path.display()));
    // The first start creates the database's folder, as opening the database would.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {
            let holder = format!("{} hostname={hostname}\n", describe_self());
            file.set_len(0).map_err(failed)?;
            file.rewind().map_err(failed)?;
            file.write_all(holder.as_bytes()).map_err(failed)?;
            file.sync_data().map_err(failed)?;
            Ok(Ok(Held::File(file)))
        }
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            Ok(Err(if holder.is_empty() {
                format!(
                    "lock file {} held by a process that wrote no details",
                    path.display()
                )
            } else {
                format!("{holder}, lock file {}", path.display())
            }))
        }
        Err(TryLockError::Error(e)) => Err(failed(e)),
    }
}

async fn try_lock_session(
    options: &PgConnectOptions,
    key: i64,
) -> Result<Result<Held, String>, LockError> {
    let failed = |e: sqlx::Error| LockError::Failed(format!("PostgreSQL: {e}"));
    let mut conn = PgConnection::connect_with(options).await.map_err(failed)?;
    let taken: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut conn)
        .await
        .map_err(failed)?
        .try_get(0)
        .map_err(failed)?;
    if taken {
        return Ok(Ok(Held::Session(conn)));
    }
    let holder = session_holder(&mut conn, key).await.map_err(failed)?;
    let _ = conn.close().await;
    Ok(Err(holder))
}

/// Describes the session holding advisory lock `key` in this database.
async fn session_holder(conn: &mut PgConnection, key: i64) -> Result<String, sqlx::Error> {
    // A bigint advisory key shows in pg_locks as classid (high half), objid (low half)
    // and objsubid 1.
    let (high, low) = (key >> 32 & 0xffff_ffff, key & 0xffff_ffff);
    let row = sqlx::query(
        "SELECT a.pid, a.application_name, COALESCE(host(a.client_addr), 'local') AS client, \
         to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS since \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
         AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(high)
    .bind(low)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => format!(
            "{} (PostgreSQL backend pid {} from {}, connected since {})",
            row.try_get::<String, _>("application_name")?,
            row.try_get::<i32, _>("pid")?,
            row.try_get::<String, _>("client")?,
            row.try_get::<String, _>("since")?,
        ),
        // Released between the attempt and the look-up: the next attempt may win.
        None => "a session that just released it".to_owned(),
    })
}

/// Keeps the dedicated connection alive; when it drops, stops writes and takes the
/// lock back on a new connection, or reports it lost to another instance.
async fn keep_session(
    options: PgConnectOptions,
    key: i64,
    mut conn: PgConnection,
    flag: WriterFlag,
    lost: watch::Sender<Option<String>>,
) {
    let mut pause = RETRY;
    loop {
        tokio::time::sleep(RETRY).await;
        // A server that stopped answering counts as gone: the lock may be gone with it.
        if let Ok(Ok(())) = tokio::time::timeout(PING_TIMEOUT, conn.ping()).await {
            continue;
        }
        flag.set(false);
        warn!(
            "the writer lock's database connection dropped; writes stopped until it is taken again"
        );
        loop {
            tokio::time::sleep(pause).await;
            match try_lock_session(&options, key).await {
                Ok(Ok(Held::Session(again))) => {
                    conn = again;
                    flag.set(true);
                    pause = RETRY;
                    info!("writer lock taken again; writes resume");
                    break;
                }
                Ok(Ok(Held::File(_))) => unreachable!("a PostgreSQL attempt takes a session"),
                Ok(Err(holder)) => {
                    // Another instance wrote while this one could not: its view of
                    // the host is stale, only a restart (which waits) makes it whole.
                    warn!(%holder, "the writer lock was taken by another instance");
                    let _ = lost.send(Some(holder));
                    return;
                }
                Err(e) => {
                    warn!(error = %e, retry_in = ?pause, "cannot take the writer lock again yet");
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// The advisory lock key of `hostname`: FNV-1a (64 bits) of a namespaced name, stable
/// across versions and platforms, unlike `std`'s hasher.
fn advisory_key(hostname: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "virtplane writer\0".bytes().chain(hostname.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// This process as a holder: pid, node, start time.
fn describe_self() -> String {
    format!(
        "pid={} node={} since={}",
        std::process::id(),
        node_name(),
        rfc3339(SystemTime::now())
    )
}

/// The PostgreSQL `application_name` of the dedicated connection (63 bytes at most).
fn session_name() -> String {
    let mut name = format!("virtplane pid={} node={}", std::process::id(), node_name());
    name.truncate(63);
    name
}

fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant's algorithm).
fn rfc3339(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_differ_by_hostname() {
        assert_eq!(advisory_key("hv-01"), advisory_key("hv-01"));
        assert_ne!(advisory_key("hv-01"), advisory_key("hv-02"));
    }

    #[test]
    fn times_are_written_as_rfc3339() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(at), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[tokio::test]
    async fn a_second_file_lock_waits_and_names_the_first_holder() {
        let dir = tempfile::tempdir().expect("dir");
        let database = Settings {
            url: crate::secret::Secret::new(format!("sqlite://{}/db.sqlite", dir.path().display())),
            max_connections: 1,
        };
        let first = WriterLock::acquire(&database, "h", None, |_| {})
            .await
            .expect("free");
        let mut told = Vec::new();
        let err = WriterLock::acquire(&database, "h", Some(Duration::from_millis(600)), |holder| {
            told.push(holder.to_owned());
        })
        .await
        .expect_err("held");
        let pid = format!("pid={}", std::process::id());
        assert!(err.to_string().contains(&pid), "{err}");
        assert_eq!(told.len(), 1);
        drop(first);
        let second = WriterLock::acquire(&database, "h", Some(Duration::from_secs(5)), |_| {})
            .await
            .expect("released");
        assert!(second.flag().check().is_ok());
    }
}
