//! PostgreSQL's writer lock: a session advisory lock on a dedicated connection, its
//! holder found through `pg_locks`, and a keeper that takes it back when the
//! connection drops.

use std::time::Duration;

use sqlx::{Connection, PgConnection, Row, postgres::PgConnectOptions};
use tokio::sync::watch;
use tracing::{info, warn};

use super::{
    WriterFlag,
    backend::{Held, RETRY},
    lock::LockError,
};

/// How long the holder's connection may take to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) async fn try_lock_session(
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
pub(super) async fn keep_session(
    options: PgConnectOptions,
    key: i64,
    mut conn: PgConnection,
    flag: WriterFlag,
    lost: watch::Sender<Option<String>>,
) {
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
        match take_again(&options, key).await {
            Ok(again) => {
                conn = again;
                flag.set(true);
                info!("writer lock taken again; writes resume");
            }
            Err(holder) => {
                // Another instance wrote while this one could not: its view of the
                // host is stale, only a restart (which waits) makes it whole.
                warn!(%holder, "the writer lock was taken by another instance");
                let _ = lost.send(Some(holder));
                return;
            }
        }
    }
}

/// Retries the lock on new connections, backing off, until it is taken again (the
/// new connection) or found held by another instance (its holder).
async fn take_again(options: &PgConnectOptions, key: i64) -> Result<PgConnection, String> {
    let mut pause = RETRY;
    loop {
        tokio::time::sleep(pause).await;
        match try_lock_session(options, key).await {
            Ok(Ok(Held::Session(again))) => return Ok(again),
            Ok(Ok(Held::File(_))) => unreachable!("a PostgreSQL attempt takes a session"),
            Ok(Err(holder)) => return Err(holder),
            Err(e) => {
                warn!(error = %e, retry_in = ?pause, "cannot take the writer lock again yet");
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The advisory lock key of `hostname`: FNV-1a (64 bits) of a namespaced name, stable
/// across versions and platforms, unlike `std`'s hasher.
pub(super) fn advisory_key(hostname: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "virtplane writer\0".bytes().chain(hostname.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_differ_by_hostname() {
        assert_eq!(advisory_key("hv-01"), advisory_key("hv-01"));
        assert_ne!(advisory_key("hv-01"), advisory_key("hv-02"));
    }
}
