//! libvirt's numbers for lifecycle events and their details, as model types and words.

use super::{RawLifecycleEvent, RawWhat};
use crate::model::{EventType, UNKNOWN_DETAIL};

/// The event's type and its detail (a word, or a device's alias); `None` for a
/// lifecycle type this service does not know (a newer libvirt's).
pub fn translate(raw: &RawLifecycleEvent) -> Option<(EventType, String)> {
    match &raw.what {
        RawWhat::Lifecycle { event, detail } => {
            let kind = usize::try_from(*event)
                .ok()
                .and_then(|i| EventType::LIFECYCLE.get(i).copied())?;
            Some((kind, detail_word(kind, *detail).to_owned()))
        }
        RawWhat::Device { kind, alias } => Some((*kind, alias.clone())),
    }
}

/// libvirt's detail code as a word (`virDomainEvent<Type>DetailType`).
fn detail_word(kind: EventType, detail: i32) -> &'static str {
    let words: &[&'static str] = match kind {
        EventType::Defined => &["added", "updated", "renamed", "from_snapshot"],
        EventType::Undefined => &["removed", "renamed"],
        EventType::Started => &[
            "booted",
            "migrated",
            "restored",
            "from_snapshot",
            "wakeup",
            "recreated",
        ],
        EventType::Suspended => &[
            "paused",
            "migrated",
            "ioerror",
            "watchdog",
            "restored",
            "from_snapshot",
            "api_error",
            "postcopy",
            "postcopy_failed",
        ],
        EventType::Resumed => &[
            "unpaused",
            "migrated",
            "from_snapshot",
            "postcopy",
            "postcopy_failed",
        ],
        EventType::Stopped => &[
            "shutdown",
            "destroyed",
            "crashed",
            "migrated",
            "saved",
            "failed",
            "from_snapshot",
        ],
        EventType::Shutdown => &["finished", "guest", "host"],
        EventType::PmSuspended => &["memory", "disk"],
        EventType::Crashed => &["panicked", "crashloaded"],
        EventType::DeviceAdded | EventType::DeviceRemoved | EventType::DeviceRemovalFailed => &[],
    };
    usize::try_from(detail)
        .ok()
        .and_then(|i| words.get(i).copied())
        .unwrap_or(UNKNOWN_DETAIL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(event: i32, detail: i32) -> RawLifecycleEvent {
        RawLifecycleEvent {
            domain_uuid: String::new(),
            domain_name: String::new(),
            what: RawWhat::Lifecycle { event, detail },
            occurred_at_micros: 0,
        }
    }

    #[test]
    fn libvirt_numbers_map_to_types_and_details() {
        assert_eq!(
            translate(&raw(5, 1)),
            Some((EventType::Stopped, "destroyed".to_owned()))
        );
        assert_eq!(
            translate(&raw(2, 0)),
            Some((EventType::Started, "booted".to_owned()))
        );
        assert_eq!(translate(&raw(42, 0)), None);
        assert_eq!(
            translate(&raw(8, 99)),
            Some((EventType::Crashed, UNKNOWN_DETAIL.to_owned()))
        );
        let device = RawLifecycleEvent {
            what: RawWhat::Device {
                kind: EventType::DeviceRemoved,
                alias: "virtio-disk1".into(),
            },
            ..raw(0, 0)
        };
        assert_eq!(
            translate(&device),
            Some((EventType::DeviceRemoved, "virtio-disk1".to_owned()))
        );
    }
}
