//! The lifecycle journal's retention: old events deleted in small batches, and the
//! watermark that lets readers tell a pruned range from an empty one.
//!
//! Pruning deletes a prefix of the host's journal in id order, stopping at the first
//! event young enough to keep, and raises `hosts.events_pruned_through` in the same
//! transaction. Ids at or below the watermark are gone, so a cursor below it would
//! skip events the client never saw: the API answers such a cursor with OUT_OF_RANGE.
//! `domain_states` is never touched: reconciliation needs it, however old.
//!
//! Notifications in the outbox carry a full copy of their event in their payload and
//! no reference to its row: pruning an event never breaks a pending delivery.

use std::time::Duration;

use sqlx::Row;
use tracing::{info, warn};

use super::{Store, StoreError};

/// Events deleted per transaction: small enough that SQLite's single writer (the
/// recorder) waits a millisecond or two for a batch, not tens of milliseconds.
const PRUNE_BATCH: usize = 1000;
/// The pause between two batches, so the recorder's commits always find the writer
/// free soon, however long the backlog.
const PRUNE_PAUSE: Duration = Duration::from_millis(20);
/// How often the journal is checked for events that aged out.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// How long stored state is kept, for the store's pruning task.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Delivered and refused notifications in the outbox.
    pub outbox: Duration,
    /// Lifecycle events; `None` keeps them all.
    pub events: Option<Duration>,
}

impl Store {
    /// Events per prune transaction. PostgreSQL's are smaller: the recorder's next
    /// commit flushes the WAL that a batch wrote (its own commit does not wait), so a
    /// small batch keeps that flush small.
    fn prune_batch(&self) -> usize {
        match self.backend {
            super::Backend::Sqlite => PRUNE_BATCH,
            super::Backend::Postgres => PRUNE_BATCH / 4,
        }
    }

    /// Deletes up to `limit` of the oldest events of `hostname` that occurred before
    /// `before_micros`, in id order, stopping at the first younger one; raises the
    /// watermark with them. Returns how many were deleted (0: nothing left to prune).
    ///
    /// # Errors
    /// The database failed; nothing was deleted.
    pub async fn prune_events(
        &self,
        hostname: &str,
        before_micros: i64,
        limit: usize,
    ) -> Result<u64, StoreError> {
        // Read outside the write transaction: on SQLite the writer lock is then held
        // only for the DELETE and the UPDATE.
        let rows = sqlx::query(
            "SELECT id, occurred_at FROM lifecycle_events WHERE hostname = $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(hostname)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(0);
        };
        let from: i64 = first.try_get("id")?;
        let mut through = None;
        for row in &rows {
            if row.try_get::<i64, _>("occurred_at")? >= before_micros {
                break;
            }
            through = Some(row.try_get::<i64, _>("id")?);
        }
        let Some(through) = through else {
            return Ok(0);
        };
        self.writable()?;
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        if self.backend == super::Backend::Postgres {
            // A prune lost in a crash is simply done again (the watermark goes with
            // it): its commit need not wait for the WAL flush that the recorder's
            // commits queue behind.
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await?;
        }
        // Both bounds: on a database shared by many hosts, the id range alone would
        // walk every other host's older rows.
        let deleted = sqlx::query(
            "DELETE FROM lifecycle_events WHERE hostname = $1 AND id >= $2 AND id <= $3",
        )
        .bind(hostname)
        .bind(from)
        .bind(through)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE hosts SET events_pruned_through = $2 \
             WHERE hostname = $1 AND events_pruned_through < $2",
        )
        .bind(hostname)
        .bind(through)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// The highest event id pruned for `hostname` (0 when none was).
    ///
    /// # Errors
    /// The database failed or the host has no row.
    pub async fn events_pruned_through(&self, hostname: &str) -> Result<i64, StoreError> {
        sqlx::query("SELECT events_pruned_through FROM hosts WHERE hostname = $1")
            .bind(hostname)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::HostMissing(hostname.to_owned()))?
            .try_get(0)
            .map_err(StoreError::from)
    }

    /// The highest pruned id of any host: every host's events at or below it may be
    /// gone.
    ///
    /// # Errors
    /// The database failed.
    pub async fn fleet_events_pruned_through(&self) -> Result<i64, StoreError> {
        sqlx::query("SELECT COALESCE(MAX(events_pruned_through), 0) FROM hosts")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)
            .map_err(StoreError::from)
    }

    /// The id of the oldest event kept for `hostname`, if any.
    ///
    /// # Errors
    /// The database failed.
    pub async fn oldest_event_id(&self, hostname: &str) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT id FROM lifecycle_events WHERE hostname = $1 ORDER BY id LIMIT 1")
                .bind(hostname)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}

/// Prunes the events of `hostname` older than `retention`, every ten minutes, batch
/// after batch with a pause between them until none is left. Never returns.
pub(crate) async fn prune_events_periodically(store: Store, hostname: String, retention: Duration) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let retention_micros = i64::try_from(retention.as_micros()).unwrap_or(i64::MAX);
        let cutoff = crate::hypervisor::now_micros().saturating_sub(retention_micros);
        let mut pruned = 0_u64;
        loop {
            match store
                .prune_events(&hostname, cutoff, store.prune_batch())
                .await
            {
                Ok(0) => break,
                Ok(n) => pruned += n,
                Err(e) => {
                    warn!(error = %e, "cannot prune old lifecycle events; trying again later");
                    break;
                }
            }
            tokio::time::sleep(PRUNE_PAUSE).await;
        }
        if pruned > 0 {
            info!(pruned, retention = ?retention, "old lifecycle events removed from the journal");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{EventType, NewEvent},
        secret::Secret,
        store::Settings,
        store::{KnownChanges, Outbox},
    };

    fn event(occurred_at_micros: i64) -> NewEvent {
        NewEvent {
            domain_uuid: "u".into(),
            domain_name: "d".into(),
            kind: EventType::Started,
            detail: "booted".into(),
            synthetic: false,
            occurred_at_micros,
        }
    }

    #[tokio::test]
    async fn pruning_deletes_an_old_prefix_in_batches_and_keeps_pending_notifications() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::connect(&Settings {
            url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
            max_connections: 1,
        })
        .await
        .expect("store");
        store.ensure_host("h").await.expect("host");
        let outbox = Outbox::new("webhook:a", None);
        // Five old events, one young, then an old one again (a clock step back): the
        // prefix stops at the young one, so the watermark never hides a kept event.
        let mut events: Vec<NewEvent> = (0..5).map(|i| event(1_000 + i)).collect();
        events.push(event(i64::MAX / 2));
        events.push(event(2_000));
        let recorded = store
            .record_events("h", &events, &KnownChanges::default(), &[outbox])
            .await
            .expect("record");
        let ids: Vec<i64> = recorded.iter().map(|e| e.id).collect();

        assert_eq!(
            store.prune_events("h", 1_000_000, 3).await.expect("prune"),
            3
        );
        assert_eq!(
            store.events_pruned_through("h").await.expect("mark"),
            ids[2]
        );
        assert_eq!(
            store.prune_events("h", 1_000_000, 3).await.expect("prune"),
            2
        );
        assert_eq!(
            store.prune_events("h", 1_000_000, 3).await.expect("prune"),
            0
        );

        assert_eq!(
            store.events_pruned_through("h").await.expect("mark"),
            ids[4]
        );
        assert_eq!(
            store.oldest_event_id("h").await.expect("oldest"),
            Some(ids[5])
        );
        let pending = store.pending("h", "webhook:a", 100).await.expect("pending");
        assert_eq!(pending.len(), 7, "every notification still waits");
        assert!(pending[0].payload.contains(&format!("\"id\":{}", ids[0])));
    }
}
