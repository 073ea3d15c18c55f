//! The `idempotent_requests` table: a request id claimed by its first request, then the
//! reply stored for the repeats, per host.
//!
//! A claim is one conditional upsert, atomic on both backends: it inserts the row, or
//! replaces one that expired, or changes nothing when a live row holds the id; the
//! caller then reads what holds it. Only the process holding the host's writer lock
//! writes these rows, so a pending row at startup belongs to a dead predecessor.

use std::time::Duration;

use sqlx::{Row, any::AnyRow};
use tracing::{info, warn};

use super::{Store, StoreError, now_millis};

/// Rows deleted per prune transaction: SQLite's one writer waits a millisecond or two
/// for a batch, never for the whole backlog.
const PRUNE_BATCH: i64 = 1000;
/// The pause between two prune batches, so other writers find the database free.
const PRUNE_PAUSE: Duration = Duration::from_millis(20);
/// How often expired rows are deleted. An expired row already counts as absent, so
/// this only reclaims space.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Attempts to read the row after a claim found the id taken: the row may be released
/// or pruned between the two statements.
const CLAIM_ATTEMPTS: usize = 3;

const PENDING: &str = "pending";
const DONE: &str = "done";

/// What a claim of a request id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The id is this caller's now: act, then complete or release it.
    Acquired,
    /// The same request succeeded before: its encoded reply.
    Done(Vec<u8>),
    /// The same request is being processed by another caller.
    Pending,
    /// The id was used for a different request, first with `method`.
    Mismatch { method: String },
}

impl Store {
    /// Claims `request_id` of `hostname` for the request `fingerprint` identifies, for
    /// `ttl` from now; an expired row counts as absent and is replaced.
    ///
    /// # Errors
    /// The database failed.
    pub async fn claim_request(
        &self,
        hostname: &str,
        request_id: &str,
        method: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        self.writable()?;
        for _ in 0..CLAIM_ATTEMPTS {
            let now = now_millis();
            let claimed = sqlx::query(
                "INSERT INTO idempotent_requests \
                 (hostname, request_id, method, fingerprint, state, reply, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7) \
                 ON CONFLICT (hostname, request_id) DO UPDATE SET \
                 method = excluded.method, fingerprint = excluded.fingerprint, \
                 state = excluded.state, reply = NULL, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at \
                 WHERE idempotent_requests.expires_at <= excluded.created_at",
            )
            .bind(hostname)
            .bind(request_id)
            .bind(method)
            .bind(fingerprint)
            .bind(PENDING)
            .bind(now)
            .bind(expiry(now, ttl))
            .execute(&self.pool)
            .await?;
            if claimed.rows_affected() > 0 {
                return Ok(Claim::Acquired);
            }
            let row = sqlx::query(
                "SELECT method, fingerprint, state, reply FROM idempotent_requests \
                 WHERE hostname = $1 AND request_id = $2",
            )
            .bind(hostname)
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                return holder(&row, fingerprint);
            }
        }
        // Released or pruned between every insert and read: someone is busy with the
        // id; the caller waits and claims again.
        Ok(Claim::Pending)
    }

    /// Stores `reply` for the pending claim of `request_id`, kept for `ttl` from now.
    /// Returns false when the claim was no longer there (it expired and was replaced,
    /// or was released): nothing changed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn complete_request(
        &self,
        hostname: &str,
        request_id: &str,
        fingerprint: &str,
        reply: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let done = sqlx::query(
            "UPDATE idempotent_requests SET state = $4, reply = $5, expires_at = $6 \
             WHERE hostname = $1 AND request_id = $2 AND fingerprint = $3 AND state = $7",
        )
        .bind(hostname)
        .bind(request_id)
        .bind(fingerprint)
        .bind(DONE)
        .bind(reply)
        .bind(expiry(now_millis(), ttl))
        .bind(PENDING)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes the pending claim of `request_id`, so that a retry acts again. Returns
    /// whether there was one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn release_request(
        &self,
        hostname: &str,
        request_id: &str,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let released = sqlx::query(
            "DELETE FROM idempotent_requests \
             WHERE hostname = $1 AND request_id = $2 AND fingerprint = $3 AND state = $4",
        )
        .bind(hostname)
        .bind(request_id)
        .bind(fingerprint)
        .bind(PENDING)
        .execute(&self.pool)
        .await?;
        Ok(released.rows_affected() > 0)
    }

    /// Deletes every pending claim of `hostname`; returns how many. Called at startup,
    /// under the writer lock: a pending row then belongs to a process that died while
    /// acting, and its retries must act again rather than wait for it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn release_pending(&self, hostname: &str) -> Result<u64, StoreError> {
        self.writable()?;
        let released =
            sqlx::query("DELETE FROM idempotent_requests WHERE hostname = $1 AND state = $2")
                .bind(hostname)
                .bind(PENDING)
                .execute(&self.pool)
                .await?;
        Ok(released.rows_affected())
    }

    /// Deletes the rows of `hostname` expired at `now_millis`, in small batches;
    /// returns how many. Other hosts' rows are never touched.
    ///
    /// # Errors
    /// The database failed; the batches before it stay deleted.
    pub async fn prune_requests(&self, hostname: &str, now_millis: i64) -> Result<u64, StoreError> {
        let mut pruned = 0;
        loop {
            self.writable()?;
            let turn = self.write_turn().await;
            // The outer bound again: on PostgreSQL a claim may renew a row after the
            // subquery read it, and the re-check of the renewed row then spares it.
            let deleted = sqlx::query(
                "DELETE FROM idempotent_requests WHERE hostname = $1 AND expires_at <= $2 \
                 AND request_id IN (SELECT request_id FROM idempotent_requests \
                 WHERE hostname = $1 AND expires_at <= $2 LIMIT $3)",
            )
            .bind(hostname)
            .bind(now_millis)
            .bind(PRUNE_BATCH)
            .execute(&self.pool)
            .await?
            .rows_affected();
            drop(turn);
            pruned += deleted;
            if deleted < PRUNE_BATCH.unsigned_abs() {
                return Ok(pruned);
            }
            tokio::time::sleep(PRUNE_PAUSE).await;
        }
    }
}

/// What holds a request id, seen by a claim of the request `fingerprint` names.
fn holder(row: &AnyRow, fingerprint: &str) -> Result<Claim, StoreError> {
    let method: String = row.try_get("method")?;
    if row.try_get::<String, _>("fingerprint")? != fingerprint {
        return Ok(Claim::Mismatch { method });
    }
    let state: String = row.try_get("state")?;
    match state.as_str() {
        PENDING => Ok(Claim::Pending),
        // SQLite may hand an empty reply back as NULL: an empty message encodes to no bytes.
        DONE => Ok(Claim::Done(
            row.try_get::<Option<Vec<u8>>, _>("reply")?
                .unwrap_or_default(),
        )),
        other => Err(StoreError::Corrupt(format!(
            "idempotent request in state {other:?}"
        ))),
    }
}

/// `ttl` after `now`, in milliseconds, saturating.
fn expiry(now: i64, ttl: Duration) -> i64 {
    now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

/// Deletes the expired request ids of `hostname` every hour. Never returns.
pub(super) async fn prune_requests_periodically(store: &Store, hostname: &str) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.prune_requests(hostname, now_millis()).await {
            Ok(0) => {}
            Ok(pruned) => info!(pruned, "expired request ids removed"),
            Err(e) => warn!(error = %e, "cannot prune expired request ids; trying again later"),
        }
    }
}

#[cfg(test)]
mod tests;
