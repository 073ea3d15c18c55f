//! The agent's heartbeat: its row updated every interval with what it sees of
//! libvirt, so others sharing the database can tell it is alive.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::time::MissedTickBehavior;
use tracing::{info, warn};

use crate::{
    hypervisor::{ConnectionStatus, Hypervisor, HypervisorInfo},
    store::{Heartbeat, Store},
};

/// The heartbeats sent and those that failed, for the metrics.
#[derive(Debug, Default)]
pub struct HeartbeatStats {
    pub stored: AtomicU64,
    pub failed: AtomicU64,
}

/// Updates the host's row every `interval`, until cancelled. A failed beat is logged,
/// counted, and the next tick tries again: one missed beat is far from `down_after`.
pub async fn beat_periodically(
    store: Store,
    hostname: String,
    hypervisor: Arc<Hypervisor>,
    interval: Duration,
    stats: Arc<HeartbeatStats>,
) {
    let mut ticks = tokio::time::interval(interval);
    // After a stall, one beat says "alive"; a burst of catch-up beats says nothing more.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        // The status is a snapshot behind its own small lock, never libvirt's.
        let beat = heartbeat(hypervisor.status());
        let stored = store.heartbeat(&hostname, &beat).await;
        let counter = if stored.is_ok() {
            &stats.stored
        } else {
            &stats.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match stored {
            Ok(()) if failing => {
                failing = false;
                info!(%hostname, "heartbeats are stored again");
            }
            Ok(()) => {}
            Err(e) => {
                failing = true;
                warn!(%hostname, error = %e, "cannot store the heartbeat; retrying at the next interval");
            }
        }
    }
}

fn heartbeat(status: ConnectionStatus) -> Heartbeat {
    let ConnectionStatus {
        connected,
        info,
        local_libvirt_version,
        ..
    } = status;
    let HypervisorInfo {
        hypervisor_type,
        hypervisor_version,
        libvirt_version,
    } = info.unwrap_or_else(|| HypervisorInfo {
        libvirt_version: local_libvirt_version,
        ..HypervisorInfo::default()
    });
    Heartbeat {
        connected,
        libvirt_version,
        hypervisor_type,
        hypervisor_version,
    }
}
