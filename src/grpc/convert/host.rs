//! The host as `GetHost`, `ListHosts` and `WatchHosts` show it.

use std::time::Duration;

use super::timestamp_from_micros;
use crate::{
    grpc::pb,
    hypervisor::{ConnectionStatus, HypervisorInfo},
    store::HostRecord,
};

/// A `Host` reply for this host: its row, overlaid with the live connection's state.
pub(crate) fn host(
    record: HostRecord,
    status: ConnectionStatus,
    stats: &crate::events::EventStats,
    down_after: Duration,
) -> pb::Host {
    let base = fleet_host(record, crate::store::now_millis(), down_after);
    let ConnectionStatus {
        connected,
        uri,
        read_only,
        info,
        reconnects,
        connect_attempts,
        connect_failures: _,
        next_attempt: _,
        last_error,
        local_libvirt_version,
    } = status;
    let HypervisorInfo {
        hypervisor_type,
        hypervisor_version,
        libvirt_version,
    } = info.unwrap_or_else(|| HypervisorInfo {
        libvirt_version: local_libvirt_version,
        ..HypervisorInfo::default()
    });
    pb::Host {
        connected,
        libvirt_uri: uri,
        hypervisor_type,
        hypervisor_version,
        libvirt_version,
        reconnects,
        last_error: last_error.unwrap_or_default(),
        connect_attempts,
        read_only,
        event_resyncs: stats.resyncs.load(std::sync::atomic::Ordering::Relaxed),
        reconciliations: stats
            .reconciliations
            .load(std::sync::atomic::Ordering::Relaxed),
        ..base
    }
}

/// A `Host` as the shared database knows it: what its agent last reported.
pub(crate) fn fleet_host(record: HostRecord, now_ms: i64, down_after: Duration) -> pb::Host {
    let up = record.is_up(now_ms, down_after);
    let HostRecord {
        hostname,
        enabled,
        disabled_reason,
        updated_at_ms: _,
        heartbeat_at_ms,
        connected,
        libvirt_version,
        hypervisor_type,
        hypervisor_version,
        agent_version,
        labels,
    } = record;
    pb::Host {
        hostname,
        enabled,
        disabled_reason: disabled_reason.unwrap_or_default(),
        connected,
        libvirt_uri: String::new(),
        hypervisor_type,
        hypervisor_version,
        libvirt_version,
        reconnects: 0,
        last_error: String::new(),
        connect_attempts: 0,
        read_only: false,
        event_resyncs: 0,
        reconciliations: 0,
        up,
        heartbeat_time: (heartbeat_at_ms > 0)
            .then(|| timestamp_from_micros(heartbeat_at_ms.saturating_mul(1_000))),
        agent_version,
        labels: labels.into_iter().collect(),
    }
}
