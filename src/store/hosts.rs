//! The `hosts` table: whether this host accepts new work, and why not.
//!
//! Automatic changes are conditional updates, so an operator's disable racing a
//! reconnect can never be undone by it.

use super::{
    Store, StoreError,
    fleet::{HOST_COLUMNS, host_from_row},
    now_millis,
};
use crate::model::Labels;

/// The prefix that marks a disable made by the service itself.
pub const AUTO_PREFIX: &str = "AUTO: ";

/// One host's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub hostname: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub updated_at_ms: i64,
    /// When the host's agent last reported in (0: never).
    pub heartbeat_at_ms: i64,
    /// Whether the agent held a live libvirt connection at its last heartbeat.
    pub connected: bool,
    pub libvirt_version: String,
    pub hypervisor_type: String,
    pub hypervisor_version: String,
    pub agent_version: String,
    pub labels: Labels,
}

impl HostRecord {
    /// Whether the agent reported in within `down_after` of `now_ms`.
    pub fn is_up(&self, now_ms: i64, down_after: std::time::Duration) -> bool {
        let down_after_ms = i64::try_from(down_after.as_millis()).unwrap_or(i64::MAX);
        self.heartbeat_at_ms > 0 && now_ms.saturating_sub(self.heartbeat_at_ms) <= down_after_ms
    }
}

impl Store {
    /// Creates the host's row, enabled, unless it exists; returns the row.
    ///
    /// # Errors
    /// The database failed.
    pub async fn ensure_host(&self, hostname: &str) -> Result<HostRecord, StoreError> {
        self.writable()?;
        sqlx::query(
            "INSERT INTO hosts (hostname, enabled, disabled_reason, updated_at) \
             VALUES ($1, $2, NULL, $3) ON CONFLICT (hostname) DO NOTHING",
        )
        .bind(hostname)
        .bind(1_i32)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        self.host(hostname).await
    }

    /// The host's row.
    ///
    /// # Errors
    /// The database failed or the row is missing.
    pub async fn host(&self, hostname: &str) -> Result<HostRecord, StoreError> {
        let sql = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE hostname = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hostname)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::HostMissing(hostname.to_owned()))?;
        host_from_row(&row)
    }

    /// Sets the host's state as an operator asked.
    ///
    /// # Errors
    /// The database failed or the row is missing.
    pub async fn set_host_enabled(
        &self,
        hostname: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<HostRecord, StoreError> {
        self.writable()?;
        let reason = if enabled { None } else { reason };
        sqlx::query(
            "UPDATE hosts SET enabled = $2, disabled_reason = $3, updated_at = $4 WHERE hostname = $1",
        )
        .bind(hostname)
        .bind(i32::from(enabled))
        .bind(reason)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        self.host(hostname).await
    }

    /// Disables an enabled host with `AUTO: <reason>`; leaves a disabled one alone.
    /// Returns whether the row changed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn auto_disable_host(
        &self,
        hostname: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let result = sqlx::query(
            "UPDATE hosts SET enabled = $2, disabled_reason = $3, updated_at = $4 \
             WHERE hostname = $1 AND enabled = $5",
        )
        .bind(hostname)
        .bind(0_i32)
        .bind(format!("{AUTO_PREFIX}{reason}"))
        .bind(now_millis())
        .bind(1_i32)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Re-enables a host only if the service disabled it itself. Returns whether the
    /// row changed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn auto_enable_host(&self, hostname: &str) -> Result<bool, StoreError> {
        self.writable()?;
        let result = sqlx::query(
            "UPDATE hosts SET enabled = $2, disabled_reason = NULL, updated_at = $3 \
             WHERE hostname = $1 AND enabled = $4 AND substr(disabled_reason, 1, 6) = $5",
        )
        .bind(hostname)
        .bind(1_i32)
        .bind(now_millis())
        .bind(0_i32)
        .bind(AUTO_PREFIX)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }
}
