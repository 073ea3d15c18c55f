//! Conversions between the API's messages and the service's own types.
//!
//! Whole structs are destructured, so a new field is a compile error here rather
//! than a silent omission on the wire.

use tonic::Status;

use super::pb;
use crate::{
    hypervisor::{ConnectionStatus, HypervisorInfo},
    model::{DomainState, DomainSummary, EventType, LifecycleEvent},
    store::HostRecord,
};

impl From<DomainState> for pb::DomainState {
    fn from(state: DomainState) -> Self {
        match state {
            DomainState::NoState => pb::DomainState::Nostate,
            DomainState::Running => pb::DomainState::Running,
            DomainState::Blocked => pb::DomainState::Blocked,
            DomainState::Paused => pb::DomainState::Paused,
            DomainState::Shutdown => pb::DomainState::Shutdown,
            DomainState::Shutoff => pb::DomainState::Shutoff,
            DomainState::Crashed => pb::DomainState::Crashed,
            DomainState::PmSuspended => pb::DomainState::Pmsuspended,
        }
    }
}

/// The state filter of a request: `None` for UNSPECIFIED (all states).
pub(crate) fn state_filter(raw: i32) -> Result<Option<DomainState>, Status> {
    let state = pb::DomainState::try_from(raw).map_err(|_| {
        Status::invalid_argument(format!("`state` {raw} is not a DomainState value"))
    })?;
    Ok(match state {
        pb::DomainState::Unspecified => None,
        pb::DomainState::Nostate => Some(DomainState::NoState),
        pb::DomainState::Running => Some(DomainState::Running),
        pb::DomainState::Blocked => Some(DomainState::Blocked),
        pb::DomainState::Paused => Some(DomainState::Paused),
        pb::DomainState::Shutdown => Some(DomainState::Shutdown),
        pb::DomainState::Shutoff => Some(DomainState::Shutoff),
        pb::DomainState::Crashed => Some(DomainState::Crashed),
        pb::DomainState::Pmsuspended => Some(DomainState::PmSuspended),
    })
}

impl From<DomainSummary> for pb::Domain {
    fn from(summary: DomainSummary) -> Self {
        let DomainSummary {
            uuid,
            name,
            state,
            state_reason,
            id,
            vcpus,
            memory_kib,
            max_memory_kib,
            persistent,
            autostart,
        } = summary;
        pb::Domain {
            uuid,
            name,
            state: pb::DomainState::from(state).into(),
            state_reason,
            id: id.unwrap_or(0),
            vcpus,
            memory_kib,
            max_memory_kib,
            persistent,
            autostart,
        }
    }
}

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

impl From<EventType> for pb::LifecycleEventType {
    fn from(kind: EventType) -> Self {
        match kind {
            EventType::Defined => pb::LifecycleEventType::Defined,
            EventType::Undefined => pb::LifecycleEventType::Undefined,
            EventType::Started => pb::LifecycleEventType::Started,
            EventType::Suspended => pb::LifecycleEventType::Suspended,
            EventType::Resumed => pb::LifecycleEventType::Resumed,
            EventType::Stopped => pb::LifecycleEventType::Stopped,
            EventType::Shutdown => pb::LifecycleEventType::Shutdown,
            EventType::PmSuspended => pb::LifecycleEventType::Pmsuspended,
            EventType::Crashed => pb::LifecycleEventType::Crashed,
        }
    }
}

/// An event type filter from a request.
pub(crate) fn event_type_from_pb(raw: i32) -> Result<EventType, Status> {
    let invalid = || {
        Status::invalid_argument(format!(
            "`types` holds {raw}, which is not a LifecycleEventType"
        ))
    };
    Ok(
        match pb::LifecycleEventType::try_from(raw).map_err(|_| invalid())? {
            pb::LifecycleEventType::Unspecified => return Err(invalid()),
            pb::LifecycleEventType::Defined => EventType::Defined,
            pb::LifecycleEventType::Undefined => EventType::Undefined,
            pb::LifecycleEventType::Started => EventType::Started,
            pb::LifecycleEventType::Suspended => EventType::Suspended,
            pb::LifecycleEventType::Resumed => EventType::Resumed,
            pb::LifecycleEventType::Stopped => EventType::Stopped,
            pb::LifecycleEventType::Shutdown => EventType::Shutdown,
            pb::LifecycleEventType::Pmsuspended => EventType::PmSuspended,
            pb::LifecycleEventType::Crashed => EventType::Crashed,
        },
    )
}

impl From<LifecycleEvent> for pb::LifecycleEvent {
    fn from(event: LifecycleEvent) -> Self {
        let LifecycleEvent {
            id,
            hostname,
            domain_uuid,
            domain_name,
            kind,
            detail,
            synthetic,
            occurred_at_micros,
        } = event;
        pb::LifecycleEvent {
            id,
            hostname,
            domain_uuid,
            domain_name,
            r#type: pb::LifecycleEventType::from(kind).into(),
            detail,
            synthetic,
            occurred_at: Some(timestamp_from_micros(occurred_at_micros)),
        }
    }
}

pub(crate) fn timestamp_from_micros(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// A request's timestamp as microseconds since the epoch.
pub(crate) fn micros_from_timestamp(
    field: &str,
    ts: &prost_types::Timestamp,
) -> Result<i64, Status> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(Status::invalid_argument(format!(
            "`{field}` has nanos outside 0..1e9"
        )));
    }
    ts.seconds
        .checked_mul(1_000_000)
        .and_then(|s| s.checked_add(i64::from(ts.nanos / 1_000)))
        .ok_or_else(|| Status::invalid_argument(format!("`{field}` is out of range")))
}
