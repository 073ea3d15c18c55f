//! The queue itself: notifications enqueued (alone or inside the transaction of the
//! events they announce), read in order, and marked delivered or failed.

use sqlx::{Any, Row, Transaction};

use crate::store::{Store, StoreError, now_millis};

/// A notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub routing_key: String,
    pub payload: String,
}

/// Ids per UPDATE when marking deliveries (SQLite allows 32766 parameters).
const MARK_CHUNK: usize = 500;

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
}

/// Enqueues inside an open transaction (with the events they announce).
pub(crate) async fn enqueue_in(
    tx: &mut Transaction<'_, Any>,
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
