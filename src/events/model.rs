//! Lifecycle events as recorded, and the last known state of each domain.

use super::EventType;
use crate::hypervisor::DomainState;

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
    pub fn concerns(&self, domain: &crate::hypervisor::DomainRef) -> bool {
        match domain {
            crate::hypervisor::DomainRef::Uuid(uuid) => {
                &self.domain_uuid == uuid || &self.domain_name == uuid
            }
            crate::hypervisor::DomainRef::Name(name) => &self.domain_name == name,
        }
    }
}
