//! The `hosts` table as the fleet shares it: each agent's heartbeat, and the reads
//! that list every host of the database.
//!
//! A heartbeat is one UPDATE of the agent's own row by primary key; listing walks the
//! primary key in hostname order, so neither scans more than it returns.

use sqlx::{AssertSqlSafe, Row, any::AnyRow};

use super::{HostRecord, Store, StoreError, now_millis};
use crate::model::Labels;

/// The columns [`host_from_row`] reads, in a SELECT list.
pub(super) const HOST_COLUMNS: &str = "hostname, enabled, disabled_reason, updated_at, \
     heartbeat_at, connected, libvirt_version, hypervisor_type, hypervisor_version, \
     agent_version, labels";

/// What an agent reports about itself at every heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heartbeat {
    pub connected: bool,
    pub libvirt_version: String,
    pub hypervisor_type: String,
    pub hypervisor_version: String,
}

/// Which hosts to list, in hostname order.
#[derive(Debug, Clone, Default)]
pub struct HostQuery {
    pub enabled: Option<bool>,
    /// `Some(true)`: only hosts whose heartbeat is at or after `heartbeat_cutoff_ms`;
    /// `Some(false)`: only those whose heartbeat is older.
    pub up: Option<bool>,
    pub heartbeat_cutoff_ms: i64,
    /// Exclusive: hosts named after this one.
    pub after: Option<String>,
    pub limit: usize,
}

impl Store {
    /// Creates the host's row unless it exists, and records the agent's version and
    /// labels with a first heartbeat.
    ///
    /// # Errors
    /// The database failed.
    pub async fn register_host(
        &self,
        hostname: &str,
        agent_version: &str,
        labels: &Labels,
    ) -> Result<HostRecord, StoreError> {
        self.ensure_host(hostname).await?;
        let labels =
            serde_json::to_string(labels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "UPDATE hosts SET agent_version = $2, labels = $3, heartbeat_at = $4 WHERE hostname = $1",
        )
        .bind(hostname)
        .bind(agent_version)
        .bind(labels)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        self.host(hostname).await
    }

    /// Records that the host's agent is alive, and what it sees of libvirt.
    ///
    /// # Errors
    /// The database failed or this instance is not the host's writer.
    pub async fn heartbeat(&self, hostname: &str, beat: &Heartbeat) -> Result<(), StoreError> {
        self.writable()?;
        let Heartbeat {
            connected,
            libvirt_version,
            hypervisor_type,
            hypervisor_version,
        } = beat;
        // On SQLite, in turn with the recorder: a periodic write must not make it wait
        // through SQLite's busy-handler sleeps.
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE hosts SET heartbeat_at = $2, connected = $3, libvirt_version = $4, \
             hypervisor_type = $5, hypervisor_version = $6 WHERE hostname = $1",
        )
        .bind(hostname)
        .bind(now_millis())
        .bind(i32::from(*connected))
        .bind(libvirt_version.as_str())
        .bind(hypervisor_type.as_str())
        .bind(hypervisor_version.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Hosts of the database matching `query`, in hostname order, at most `limit`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_hosts(&self, query: &HostQuery) -> Result<Vec<HostRecord>, StoreError> {
        let mut sql = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if query.enabled.is_some() {
            sql.push_str(&format!(" AND enabled = ${}", next()));
        }
        match query.up {
            Some(true) => sql.push_str(&format!(" AND heartbeat_at >= ${}", next())),
            Some(false) => sql.push_str(&format!(" AND heartbeat_at < ${}", next())),
            None => {}
        }
        if query.after.is_some() {
            sql.push_str(&format!(" AND hostname > ${}", next()));
        }
        sql.push_str(&format!(" ORDER BY hostname LIMIT ${}", next()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(enabled) = query.enabled {
            q = q.bind(i32::from(enabled));
        }
        if query.up.is_some() {
            q = q.bind(query.heartbeat_cutoff_ms);
        }
        if let Some(after) = &query.after {
            q = q.bind(after.clone());
        }
        q = q.bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(host_from_row).collect()
    }
}

/// A `hosts` row selected with [`HOST_COLUMNS`].
pub(super) fn host_from_row(row: &AnyRow) -> Result<HostRecord, StoreError> {
    let labels: String = row.try_get("labels")?;
    Ok(HostRecord {
        hostname: row.try_get("hostname")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        updated_at_ms: row.try_get("updated_at")?,
        heartbeat_at_ms: row.try_get("heartbeat_at")?,
        connected: row.try_get::<i64, _>("connected")? != 0,
        libvirt_version: row.try_get("libvirt_version")?,
        hypervisor_type: row.try_get("hypervisor_type")?,
        hypervisor_version: row.try_get("hypervisor_version")?,
        agent_version: row.try_get("agent_version")?,
        // Written by agents from their own configuration: one that cannot be read is
        // shown without labels rather than hiding the host.
        labels: serde_json::from_str(&labels).unwrap_or_default(),
    })
}
