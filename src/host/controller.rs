//! The host's enabled state: set by operators, and by the service itself when
//! libvirt comes and goes (Nova's `_set_host_enabled`); other hosts' rows as the
//! shared database holds them.
//!
//! An automatic disable carries the reason prefix `AUTO: ` and is lifted by the next
//! successful connect; an operator's disable is only ever lifted by an operator.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::{error, info};

use crate::{
    hypervisor::{BoxFuture, ConnectionListener},
    store::{AUTO_PREFIX, HostRecord, Store, StoreError},
};

use super::Settings;

const MAX_REASON_LEN: usize = 255;

/// Why a host operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{0}")]
    InvalidReason(String),
    #[error("host {hostname} is disabled ({reason}); {operation} is refused until it is enabled")]
    Disabled {
        hostname: String,
        reason: String,
        operation: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Owns the host's row and tells whether libvirt is reachable.
#[derive(Debug)]
pub struct HostController {
    store: Store,
    hostname: String,
    settings: Settings,
    reachable: watch::Sender<bool>,
    /// Where `hypervisor.error` notifications go, when configured.
    outbox: Option<crate::store::Outbox>,
}

impl HostController {
    /// Loads (or creates, enabled) the host's row, with this agent's version and
    /// the configured labels.
    ///
    /// # Errors
    /// The database failed.
    pub async fn new(
        store: Store,
        hostname: String,
        settings: Settings,
        outbox: Option<crate::store::Outbox>,
    ) -> Result<Arc<Self>, StoreError> {
        store
            .register_host(&hostname, env!("CARGO_PKG_VERSION"), &settings.labels)
            .await?;
        // Unknown until the first connect: report NOT_SERVING rather than guess.
        let (reachable, _) = watch::channel(false);
        Ok(Arc::new(HostController {
            store,
            hostname,
            settings,
            reachable,
            outbox,
        }))
    }

    /// The name this host is recorded under.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// How the host reports to the fleet and judges other hosts.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Follows whether libvirt was reachable at the last connect or use.
    pub fn reachable(&self) -> watch::Receiver<bool> {
        self.reachable.subscribe()
    }

    /// The host's current row.
    ///
    /// # Errors
    /// The database failed.
    pub async fn record(&self) -> Result<HostRecord, HostError> {
        Ok(self.store.host(&self.hostname).await?)
    }

    /// Enables or disables the host as an operator asked.
    ///
    /// # Errors
    /// [`HostError::InvalidReason`] for a missing, overlong or `AUTO: ` reason on disable.
    pub async fn set_enabled(&self, enabled: bool, reason: &str) -> Result<HostRecord, HostError> {
        let reason = reason.trim();
        if !enabled {
            validate_reason(reason)?;
        }
        let record = self
            .store
            .set_host_enabled(&self.hostname, enabled, Some(reason))
            .await?;
        info!(hostname = %self.hostname, enabled, reason, "host state set by operator");
        Ok(record)
    }

    /// Fails if the host is disabled: it accepts no new domains or boots.
    ///
    /// # Errors
    /// [`HostError::Disabled`] naming the reason.
    pub async fn ensure_accepting_work(&self, operation: &'static str) -> Result<(), HostError> {
        let record = self.record().await?;
        if record.enabled {
            Ok(())
        } else {
            Err(HostError::Disabled {
                hostname: record.hostname,
                reason: record.disabled_reason.unwrap_or_default(),
                operation,
            })
        }
    }
}

fn validate_reason(reason: &str) -> Result<(), HostError> {
    if reason.is_empty() {
        return Err(HostError::InvalidReason(
            "`reason` is required when disabling a host: say why, for operators who see it later"
                .into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_LEN {
        return Err(HostError::InvalidReason(format!(
            "`reason` must be at most {MAX_REASON_LEN} characters"
        )));
    }
    if reason.starts_with(AUTO_PREFIX) {
        return Err(HostError::InvalidReason(format!(
            "`reason` must not start with {AUTO_PREFIX:?}: that prefix marks the service's own disables, which it lifts by itself"
        )));
    }
    Ok(())
}

impl ConnectionListener for HostController {
    fn connected(&self) -> BoxFuture<'_> {
        Box::pin(async move {
            self.reachable.send_replace(true);
            match self.store.auto_enable_host(&self.hostname).await {
                Ok(true) => info!(hostname = %self.hostname, "host re-enabled: libvirt is back"),
                Ok(false) => {}
                Err(e) => error!(error = %e, "cannot record that the host is enabled again"),
            }
        })
    }

    fn disconnected<'a>(&'a self, reason: &'a str) -> BoxFuture<'a> {
        Box::pin(async move {
            self.reachable.send_replace(false);
            if let Some(outbox) = &self.outbox {
                // Nova's compute.libvirt.error: every failed connect, not only the first.
                let payload = serde_json::json!({
                    "host": self.hostname,
                    "method": "connect",
                    "reason": reason,
                });
                let notification = crate::store::NewNotification {
                    routing_key: "hypervisor.error".into(),
                    payload: payload.to_string(),
                };
                outbox
                    .enqueue(&self.store, &self.hostname, notification)
                    .await;
            }
            let reason = format!("Connection to libvirt lost: {reason}");
            match self.store.auto_disable_host(&self.hostname, &reason).await {
                Ok(true) => {
                    info!(hostname = %self.hostname, %reason, "host disabled automatically")
                }
                Ok(false) => {}
                Err(e) => error!(error = %e, "cannot record that the host is disabled"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_reasons_must_be_given_and_not_pose_as_automatic() {
        assert!(validate_reason("maintenance").is_ok());
        assert!(validate_reason("").is_err());
        assert!(validate_reason("AUTO: sneaky").is_err());
        assert!(validate_reason(&"x".repeat(256)).is_err());
    }
}
