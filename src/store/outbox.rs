//! The `outbox` table: notifications to deliver at least once.

use std::sync::Arc;

use sqlx::{Any, Row, Transaction};
use tokio::sync::Notify;
use tracing::warn;

use super::{Store, StoreError, now_millis};
use crate::model::EventType;

/// One destination of notifications: its sink name in the table, which lifecycle
/// events it takes, and how producers wake its deliverer.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub sink: String,
    /// `None`: every lifecycle event.
    pub types: Option<Vec<EventType>>,
    pub wake: Arc<Notify>,
}

impl Outbox {
    /// An outbox for `sink` taking the lifecycle events of `types` (all if `None`).
    pub fn new(sink: impl Into<String>, types: Option<Vec<EventType>>) -> Self {
        Outbox {
            sink: sink.into(),
            types,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Whether lifecycle events of type `kind` go to this sink.
    pub fn takes(&self, kind: EventType) -> bool {
        self.types
            .as_ref()
            .is_none_or(|types| types.contains(&kind))
    }

    /// Enqueues one notification; failures are logged (the event itself is stored).
    pub async fn enqueue(&self, store: &Store, hostname: &str, notification: NewNotification) {
        match store.enqueue(hostname, &self.sink, &[notification]).await {
            Ok(()) => self.wake.notify_one(),
            Err(e) => warn!(error = %e, "cannot enqueue a notification"),
        }
    }
}

/// A notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub routing_key: String,
    pub payload: String,
}

/// Ids per UPDATE when marking deliveries (SQLite allows 32766 parameters).
const MARK_CHUNK: usize = 500;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Refused for good by the receiver; never retried.
    Failed,
}

/// One notification with its delivery record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub routing_key: String,
    pub payload: String,
    pub created_at_millis: i64,
    pub attempts: i64,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub state: DeliveryState,
    /// When it was delivered or failed for good.
    pub finished_at_millis: Option<i64>,
}

/// Deliveries of one sink by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// A notification to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub routing_key: String,
    pub payload: String,
}

impl Store {
    /// Enqueues notifications for `sink`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn enqueue(
        &self,
        hostname: &str,
        sink: &str,
        notifications: &[NewNotification],
    ) -> Result<(), StoreError> {
        self.writable()?;
        let mut tx = self.pool.begin().await?;
        enqueue_in(&mut tx, hostname, sink, notifications).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The oldest undelivered notifications of `sink`, in order.
    ///
    /// # Errors
    /// The database failed.
    pub async fn pending(
        &self,
        hostname: &str,
        sink: &str,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, routing_key, payload FROM outbox \
             WHERE hostname = $1 AND sink = $2 AND delivered_at IS NULL AND failed_at IS NULL \
             ORDER BY id LIMIT $3",
        )
        .bind(hostname)
        .bind(sink)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutboxRow {
                    id: row.try_get("id")?,
                    routing_key: row.try_get("routing_key")?,
                    payload: row.try_get("payload")?,
                })
            })
            .collect()
    }

    /// Marks notifications delivered.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_delivered(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.writable()?;
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        // One statement per chunk rather than per row: a batch of 200 confirmed
        // notifications is a handful of round trips, not 200.
        for chunk in ids.chunks(MARK_CHUNK) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1 WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed delivery attempt; the notification stays pending.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.record_attempt(id, None, error, false).await
    }

    /// Records one attempt of a delivery with the receiver's status code (if any):
    /// delivered (`error` empty), failed for now, or failed for good (`permanent`).
    ///
    /// # Errors
    /// The database failed.
    pub async fn record_attempt(
        &self,
        id: i64,
        status: Option<u16>,
        error: &str,
        permanent: bool,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let now = now_millis();
        let (delivered_at, failed_at, last_error) = match (error.is_empty(), permanent) {
            (true, _) => (Some(now), None, None),
            (false, true) => (None, Some(now), Some(error)),
            (false, false) => (None, None, Some(error)),
        };
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_status = $2, last_error = $3, \
             delivered_at = $4, failed_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status.map(i32::from))
        .bind(last_error)
        .bind(delivered_at)
        .bind(failed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deliveries of `sink`, newest first, before `before_id` if given.
    ///
    /// # Errors
    /// The database failed.
    pub async fn deliveries(
        &self,
        hostname: &str,
        sink: &str,
        state: Option<DeliveryState>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state_clause = match state {
            None => "",
            Some(DeliveryState::Pending) => " AND delivered_at IS NULL AND failed_at IS NULL",
            Some(DeliveryState::Delivered) => " AND delivered_at IS NOT NULL",
            Some(DeliveryState::Failed) => " AND failed_at IS NOT NULL",
        };
        let sql = format!(
            "SELECT id, routing_key, payload, created_at, attempts, last_status, last_error, \
             delivered_at, failed_at FROM outbox WHERE hostname = $1 AND sink = $2 AND id < $3\
             {state_clause} ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hostname)
            .bind(sink)
            .bind(before_id.unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let delivered_at: Option<i64> = row.try_get("delivered_at")?;
                let failed_at: Option<i64> = row.try_get("failed_at")?;
                let (state, finished_at) = match (delivered_at, failed_at) {
                    (Some(at), _) => (DeliveryState::Delivered, Some(at)),
                    (None, Some(at)) => (DeliveryState::Failed, Some(at)),
                    (None, None) => (DeliveryState::Pending, None),
                };
                Ok(Delivery {
                    id: row.try_get("id")?,
                    routing_key: row.try_get("routing_key")?,
                    payload: row.try_get("payload")?,
                    created_at_millis: row.try_get("created_at")?,
                    attempts: row.try_get::<i64, _>("attempts")?,
                    last_status: row
                        .try_get::<Option<i64>, _>("last_status")?
                        .and_then(|s| u16::try_from(s).ok()),
                    last_error: row.try_get("last_error")?,
                    state,
                    finished_at_millis: finished_at,
                })
            })
            .collect()
    }

    /// How many deliveries of `sink` are pending, delivered and failed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delivery_counts(
        &self,
        hostname: &str,
        sink: &str,
    ) -> Result<DeliveryCounts, StoreError> {
        let row = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered, \
             COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed \
             FROM outbox WHERE hostname = $1 AND sink = $2",
        )
        .bind(hostname)
        .bind(sink)
        .fetch_one(&self.pool)
        .await?;
        Ok(DeliveryCounts {
            pending: row.try_get("pending")?,
            delivered: row.try_get("delivered")?,
            failed: row.try_get("failed")?,
        })
    }
}

/// Enqueues inside an open transaction (with the events they announce).
pub(crate) async fn enqueue_in(
    tx: &mut Transaction<'static, Any>,
    hostname: &str,
    sink: &str,
    notifications: &[NewNotification],
) -> Result<(), StoreError> {
    let now = now_millis();
    for n in notifications {
        sqlx::query(
            "INSERT INTO outbox (hostname, sink, routing_key, payload, created_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, 0)",
        )
        .bind(hostname)
        .bind(sink)
        .bind(n.routing_key.as_str())
        .bind(n.payload.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Notifications waiting per sink of `hostname` (pending, not failed for good).
    ///
    /// # Errors
    /// The database failed.
    pub async fn outbox_backlog(&self, hostname: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT sink, COUNT(*) AS waiting FROM outbox \
             WHERE hostname = $1 AND delivered_at IS NULL AND failed_at IS NULL GROUP BY sink",
        )
        .bind(hostname)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("sink")?, row.try_get("waiting")?)))
            .collect()
    }
}

impl Store {
    /// Deletes notifications of `hostname` delivered or refused before `before_millis`;
    /// returns how many. Pending ones stay, however old.
    ///
    /// # Errors
    /// The database failed.
    pub async fn prune_outbox(
        &self,
        hostname: &str,
        before_millis: i64,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let done = sqlx::query(
            "DELETE FROM outbox WHERE hostname = $1 AND \
             (delivered_at < $2 OR failed_at < $2)",
        )
        .bind(hostname)
        .bind(before_millis)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// Prunes the store: delivered and refused notifications older than
/// `retention.outbox`, hourly; lifecycle events older than `retention.events`, when
/// set, in small batches (see [`super::journal`]). Never returns.
pub async fn prune_periodically(store: Store, hostname: String, retention: super::Retention) {
    let events = async {
        match retention.events {
            Some(keep) => {
                super::journal::prune_events_periodically(store.clone(), hostname.clone(), keep)
                    .await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::join!(
        prune_outbox_periodically(&store, &hostname, retention.outbox),
        events
    );
}

async fn prune_outbox_periodically(store: &Store, hostname: &str, retention: std::time::Duration) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let cutoff = now_millis() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        match store.prune_outbox(hostname, cutoff).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old notifications removed from the outbox"),
            Err(e) => warn!(error = %e, "cannot prune the outbox"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{secret::Secret, store::Settings};

    #[tokio::test]
    async fn pruning_removes_finished_notifications_and_keeps_pending_ones() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::connect(&Settings {
            url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
            max_connections: 1,
        })
        .await
        .expect("store");
        let note = |key: &str| NewNotification {
            routing_key: key.into(),
            payload: "{}".into(),
        };
        store
            .enqueue(
                "h",
                "webhook:a",
                &[note("delivered"), note("refused"), note("pending")],
            )
            .await
            .expect("enqueue");
        let rows = store.pending("h", "webhook:a", 10).await.expect("pending");
        store
            .record_attempt(rows[0].id, Some(200), "", false)
            .await
            .expect("delivered");
        store
            .record_attempt(rows[1].id, Some(400), "no", true)
            .await
            .expect("refused");
        store
            .record_attempt(rows[2].id, Some(503), "later", false)
            .await
            .expect("retry");

        assert_eq!(
            store
                .prune_outbox("h", now_millis() - 60_000)
                .await
                .expect("prune"),
            0
        );
        assert_eq!(
            store
                .prune_outbox("h", now_millis() + 1)
                .await
                .expect("prune"),
            2
        );
        let left = store.pending("h", "webhook:a", 10).await.expect("pending");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].routing_key, "pending");
    }
}
