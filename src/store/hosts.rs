//! The `hosts` table: whether this host accepts new work, and why not.
//!
//! Automatic changes are conditional updates, so an operator's disable racing a
//! reconnect can never be undone by it.

use sqlx::Row;

use super::{Store, StoreError, now_millis};

/// The prefix that marks a disable made by the service itself.
pub const AUTO_PREFIX: &str = "AUTO: ";

/// One host's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub hostname: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub updated_at_ms: i64,
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
        let row = sqlx::query(
            "SELECT hostname, enabled, disabled_reason, updated_at FROM hosts WHERE hostname = $1",
        )
        .bind(hostname)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::HostMissing(hostname.to_owned()))?;
        Ok(HostRecord {
            hostname: row.try_get("hostname")?,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            disabled_reason: row.try_get("disabled_reason")?,
            updated_at_ms: row.try_get("updated_at")?,
        })
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
