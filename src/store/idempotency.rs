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
mod tests {
    use sqlx::{Connection, Executor, PgConnection};

    use super::*;
    use crate::{secret::Secret, store::Settings};

    const DAY: Duration = Duration::from_secs(86_400);

    /// The PostgreSQL server the tests use; `VIRTPLANE_TEST_POSTGRES` overrides it.
    fn postgres_server() -> String {
        std::env::var("VIRTPLANE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
    }

    async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
        Store::connect(&Settings {
            url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
            max_connections: 2,
        })
        .await
        .expect("store")
    }

    /// Runs `check` against a scratch PostgreSQL database, dropped afterwards.
    async fn with_postgres<F: Future<Output = ()>>(check: impl FnOnce(Store) -> F) {
        let name = format!(
            "virtplane_unit_{}_{:x}",
            std::process::id(),
            fastrand::u64(..)
        );
        let admin_url = format!("{}/postgres", postgres_server());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL reachable (make test starts it)");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create scratch database");
        let store = Store::connect(&Settings {
            url: Secret::new(format!("{}/{name}", postgres_server())),
            max_connections: 2,
        })
        .await
        .expect("store");
        check(store.clone()).await;
        store.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await
            .expect("drop scratch database");
    }

    /// A claim acts once, repeats replay, and another request with the id is refused.
    async fn claims_and_replays(store: &Store) {
        let claim = |id: &'static str, method: &'static str, fp: &'static str| {
            store.claim_request("h", id, method, fp, DAY)
        };
        assert_eq!(
            claim("a", "M/One", "f1").await.expect("claim"),
            Claim::Acquired
        );
        assert_eq!(
            claim("a", "M/One", "f1").await.expect("again"),
            Claim::Pending
        );
        assert_eq!(
            claim("a", "M/Two", "f2").await.expect("other"),
            Claim::Mismatch {
                method: "M/One".into()
            }
        );
        assert!(
            store
                .complete_request("h", "a", "f1", b"reply", DAY)
                .await
                .expect("complete")
        );
        assert_eq!(
            claim("a", "M/One", "f1").await.expect("replay"),
            Claim::Done(b"reply".to_vec())
        );
        assert_eq!(
            claim("a", "M/One", "f9")
                .await
                .expect("same method, other fields"),
            Claim::Mismatch {
                method: "M/One".into()
            }
        );
        // Ids are per host.
        assert_eq!(
            store
                .claim_request("other", "a", "M/Two", "f2", DAY)
                .await
                .expect("other host"),
            Claim::Acquired
        );
        // An empty reply (an empty message) replays as empty.
        assert_eq!(
            claim("e", "M/One", "f1").await.expect("claim"),
            Claim::Acquired
        );
        store
            .complete_request("h", "e", "f1", b"", DAY)
            .await
            .expect("complete");
        assert_eq!(
            claim("e", "M/One", "f1").await.expect("replay"),
            Claim::Done(Vec::new())
        );
    }

    /// Releases let a retry act again; a done row is never released.
    async fn releases(store: &Store) {
        let claim = |id: &'static str| store.claim_request("h", id, "M", "f", DAY);
        assert_eq!(claim("r").await.expect("claim"), Claim::Acquired);
        assert!(
            !store
                .release_request("h", "r", "other")
                .await
                .expect("not ours")
        );
        assert!(store.release_request("h", "r", "f").await.expect("release"));
        assert_eq!(claim("r").await.expect("again"), Claim::Acquired);

        assert_eq!(claim("p").await.expect("claim"), Claim::Acquired);
        store
            .complete_request("h", "r", "f", b"x", DAY)
            .await
            .expect("complete");
        assert_eq!(
            store
                .claim_request("elsewhere", "p", "M", "f", DAY)
                .await
                .expect("other host"),
            Claim::Acquired
        );
        assert_eq!(store.release_pending("h").await.expect("startup"), 1);
        assert_eq!(claim("p").await.expect("released"), Claim::Acquired);
        assert_eq!(
            claim("r").await.expect("done stays"),
            Claim::Done(b"x".to_vec())
        );
        assert!(!store.release_request("h", "r", "f").await.expect("done"));
        assert_eq!(
            store
                .claim_request("elsewhere", "p", "M", "f", DAY)
                .await
                .expect("other host untouched"),
            Claim::Pending
        );
    }

    /// An expired row counts as absent, and pruning deletes only this host's.
    async fn expires_and_prunes(store: &Store) {
        let short = Duration::from_millis(1);
        for host in ["x-host", "y-host"] {
            assert_eq!(
                store
                    .claim_request(host, "x", "M/One", "f1", short)
                    .await
                    .expect("claim"),
                Claim::Acquired
            );
            store
                .complete_request(host, "x", "f1", b"old", short)
                .await
                .expect("complete");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            store
                .claim_request("x-host", "x", "M/Two", "f2", DAY)
                .await
                .expect("expired row replaced"),
            Claim::Acquired
        );
        assert_eq!(
            store
                .prune_requests("x-host", now_millis())
                .await
                .expect("prune"),
            0,
            "the replaced row is live"
        );
        let later = now_millis() + 2 * 86_400_000;
        assert_eq!(
            store.prune_requests("x-host", later).await.expect("prune"),
            1
        );
        assert_eq!(
            store.prune_requests("y-host", later).await.expect("prune"),
            1,
            "another host's row waits for that host's own pruning"
        );
    }

    async fn every_case(store: Store) {
        claims_and_replays(&store).await;
        releases(&store).await;
        expires_and_prunes(&store).await;
    }

    #[tokio::test]
    async fn request_ids_are_claimed_replayed_released_and_pruned_on_sqlite() {
        let dir = tempfile::tempdir().expect("dir");
        every_case(sqlite_store(&dir).await).await;
    }

    #[tokio::test]
    async fn request_ids_are_claimed_replayed_released_and_pruned_on_postgres() {
        with_postgres(every_case).await;
    }

    #[tokio::test]
    async fn pruning_deletes_a_large_backlog_in_batches() {
        let dir = tempfile::tempdir().expect("dir");
        let store = sqlite_store(&dir).await;
        let count = PRUNE_BATCH.unsigned_abs() + 5;
        for i in 0..count {
            let id = format!("id-{i}");
            store
                .claim_request("h", &id, "M", "f", Duration::ZERO)
                .await
                .expect("claim");
        }
        assert_eq!(
            store
                .prune_requests("h", now_millis())
                .await
                .expect("prune"),
            count
        );
    }
}
