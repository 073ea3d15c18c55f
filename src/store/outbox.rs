//! The `outbox` table: notifications to deliver at least once.

use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, now_millis};

/// A notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub routing_key: String,
    pub payload: String,
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
             WHERE hostname = $1 AND sink = $2 AND delivered_at IS NULL ORDER BY id LIMIT $3",
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
        let mut tx = self.pool.begin().await?;
        let now = now_millis();
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1 WHERE id = $1",
            )
            .bind(*id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed delivery attempt.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mark_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
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
