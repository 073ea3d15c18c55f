//! libvirt's numbers for lifecycle events and their details, as model types and words.

use super::RawLifecycleEvent;
use crate::model::{EventType, UNKNOWN_DETAIL};

/// The event's type and its detail as a word; `None` for a type this service does
/// not know (a newer libvirt's).
pub fn translate(raw: &RawLifecycleEvent) -> Option<(EventType, &'static str)> {
    let kind = usize::try_from(raw.event)
        .ok()
        .and_then(|i| EventType::ALL.get(i).copied())?;
    Some((kind, detail_word(kind, raw.detail)))
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
            event,
            detail,
            occurred_at_micros: 0,
        }
    }

    #[test]
    fn libvirt_numbers_map_to_types_and_details() {
        assert_eq!(
            translate(&raw(5, 1)),
            Some((EventType::Stopped, "destroyed"))
        );
        assert_eq!(translate(&raw(2, 0)), Some((EventType::Started, "booted")));
        assert_eq!(translate(&raw(42, 0)), None);
        assert_eq!(
            translate(&raw(8, 99)),
            Some((EventType::Crashed, UNKNOWN_DETAIL))
        );
    }
}
