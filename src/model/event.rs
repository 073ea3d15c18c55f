//! Lifecycle events as recorded, and the last known state of each domain.

use super::{DomainRef, DomainState};

/// What happened to a domain: libvirt's lifecycle events (`virDomainEventType`) and
/// its device events (a device's alias is their detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Defined,
    Undefined,
    Started,
    Suspended,
    Resumed,
    Stopped,
    Shutdown,
    PmSuspended,
    Crashed,
    /// A device was hot-plugged (`VIR_DOMAIN_EVENT_ID_DEVICE_ADDED`).
    DeviceAdded,
    /// The guest released a device being unplugged (`..._DEVICE_REMOVED`).
    DeviceRemoved,
    /// The guest refused to release a device (`..._DEVICE_REMOVAL_FAILED`).
    DeviceRemovalFailed,
}

/// The detail of an event whose cause the service could not observe.
pub const UNKNOWN_DETAIL: &str = "unknown";

/// Every type with its stored key.
const KEYS: [(EventType, &str); 12] = [
    (EventType::Defined, "defined"),
    (EventType::Undefined, "undefined"),
    (EventType::Started, "started"),
    (EventType::Suspended, "suspended"),
    (EventType::Resumed, "resumed"),
    (EventType::Stopped, "stopped"),
    (EventType::Shutdown, "shutdown"),
    (EventType::PmSuspended, "pmsuspended"),
    (EventType::Crashed, "crashed"),
    (EventType::DeviceAdded, "device_added"),
    (EventType::DeviceRemoved, "device_removed"),
    (EventType::DeviceRemovalFailed, "device_removal_failed"),
];

impl EventType {
    /// The lifecycle types, in libvirt's numbering order (`virDomainEventType`).
    pub const LIFECYCLE: [EventType; 9] = [
        EventType::Defined,
        EventType::Undefined,
        EventType::Started,
        EventType::Suspended,
        EventType::Resumed,
        EventType::Stopped,
        EventType::Shutdown,
        EventType::PmSuspended,
        EventType::Crashed,
    ];

    /// The type's row in `KEYS`: a new type does not compile until it has one.
    const fn index(self) -> usize {
        match self {
            EventType::Defined => 0,
            EventType::Undefined => 1,
            EventType::Started => 2,
            EventType::Suspended => 3,
            EventType::Resumed => 4,
            EventType::Stopped => 5,
            EventType::Shutdown => 6,
            EventType::PmSuspended => 7,
            EventType::Crashed => 8,
            EventType::DeviceAdded => 9,
            EventType::DeviceRemoved => 10,
            EventType::DeviceRemovalFailed => 11,
        }
    }

    /// Whether the event is about a device, not the domain's state.
    pub fn is_device(self) -> bool {
        matches!(
            self,
            EventType::DeviceAdded | EventType::DeviceRemoved | EventType::DeviceRemovalFailed
        )
    }

    /// The stored name.
    pub fn key(self) -> &'static str {
        KEYS[self.index()].1
    }

    /// The type stored under `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        KEYS.iter().find(|row| row.1 == key).map(|row| row.0)
    }
}

/// An event about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub domain_uuid: String,
    pub domain_name: String,
    pub kind: EventType,
    pub detail: String,
    pub synthetic: bool,
    /// Microseconds since the Unix epoch.
    pub occurred_at_micros: i64,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEvent {
    pub id: i64,
    pub hostname: String,
    pub domain_uuid: String,
    pub domain_name: String,
    pub kind: EventType,
    pub detail: String,
    pub synthetic: bool,
    pub occurred_at_micros: i64,
}

/// What the service last knew about a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDomain {
    pub uuid: String,
    pub name: String,
    pub state: DomainState,
    pub persistent: bool,
}

impl LifecycleEvent {
    /// Whether the event concerns the domain named by UUID or name `domain`.
    pub fn concerns(&self, domain: &DomainRef) -> bool {
        match domain {
            DomainRef::Uuid(uuid) => &self.domain_uuid == uuid || &self.domain_name == uuid,
            DomainRef::Name(name) => &self.domain_name == name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_own_row_and_its_key_round_trips() {
        for (index, (kind, key)) in KEYS.iter().enumerate() {
            assert_eq!(kind.index(), index, "{kind:?} is not in its own row");
            assert_eq!(EventType::from_key(key), Some(*kind));
            if let Some(lifecycle) = EventType::LIFECYCLE.get(index) {
                assert_eq!(lifecycle, kind, "libvirt's numbering");
            } else {
                assert!(kind.is_device(), "{kind:?}");
            }
        }
    }
}
