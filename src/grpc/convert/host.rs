//! The host as `GetHost` shows it.

use crate::{
    grpc::pb,
    hypervisor::{ConnectionStatus, HypervisorInfo},
    store::HostRecord,
};

/// A `Host` reply from the database row and the connection's state.
pub(crate) fn host(
    record: HostRecord,
    status: ConnectionStatus,
    stats: &crate::events::EventStats,
) -> pb::Host {
    let HostRecord {
        hostname,
        enabled,
        disabled_reason,
        updated_at_ms: _,
    } = record;
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
        hostname,
        enabled,
        disabled_reason: disabled_reason.unwrap_or_default(),
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
    }
}
