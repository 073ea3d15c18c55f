//! Lifecycle events and their types, to and from the API.

use tonic::Status;

use super::timestamp_from_micros;
use crate::{
    grpc::pb,
    model::InvalidArgument,
    model::{EventType, LifecycleEvent},
};

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
            EventType::DeviceAdded => pb::LifecycleEventType::DeviceAdded,
            EventType::DeviceRemoved => pb::LifecycleEventType::DeviceRemoved,
            EventType::DeviceRemovalFailed => pb::LifecycleEventType::DeviceRemovalFailed,
        }
    }
}

/// An event type filter from a request.
pub(crate) fn event_type_from_pb(raw: i32) -> Result<EventType, Status> {
    let invalid = || {
        Status::from(InvalidArgument::new(
            "types",
            format!("`types` holds {raw}, which is not a LifecycleEventType"),
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
            pb::LifecycleEventType::DeviceAdded => EventType::DeviceAdded,
            pb::LifecycleEventType::DeviceRemoved => EventType::DeviceRemoved,
            pb::LifecycleEventType::DeviceRemovalFailed => EventType::DeviceRemovalFailed,
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
