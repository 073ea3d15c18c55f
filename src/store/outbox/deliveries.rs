//! The delivery record as read back: each notification's state and attempts, counts
//! by state, and the backlog per sink.

use sqlx::{Row, any::AnyRow};

use crate::store::{Store, StoreError};

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

impl Store {
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
        rows.iter().map(delivery_from).collect()
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

/// One row of the table as a delivery record.
fn delivery_from(row: &AnyRow) -> Result<Delivery, StoreError> {
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
}
