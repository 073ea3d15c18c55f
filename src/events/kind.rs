//! Lifecycle event types and libvirt's detail codes as words.

/// libvirt's `virDomainEventType`.
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
}

/// The detail of an event whose cause the service could not observe.
pub const UNKNOWN_DETAIL: &str = "unknown";

const ALL: [EventType; 9] = [
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

impl EventType {
    /// The type libvirt numbers `raw`, if known.
    pub fn from_libvirt(raw: i32) -> Option<Self> {
        usize::try_from(raw).ok().and_then(|i| ALL.get(i).copied())
    }

    /// The stored name.
    pub fn key(self) -> &'static str {
        match self {
            EventType::Defined => "defined",
            EventType::Undefined => "undefined",
            EventType::Started => "started",
            EventType::Suspended => "suspended",
            EventType::Resumed => "resumed",
            EventType::Stopped => "stopped",
            EventType::Shutdown => "shutdown",
            EventType::PmSuspended => "pmsuspended",
            EventType::Crashed => "crashed",
        }
    }

    /// The type stored under `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        ALL.into_iter().find(|t| t.key() == key)
    }

    /// libvirt's detail code as a word (`virDomainEvent<Type>DetailType`).
    pub fn detail_word(self, detail: i32) -> &'static str {
        let words: &[&'static str] = match self {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_numbers_map_to_types_and_details() {
        assert_eq!(EventType::from_libvirt(5), Some(EventType::Stopped));
        assert_eq!(EventType::Stopped.detail_word(1), "destroyed");
        assert_eq!(EventType::Started.detail_word(0), "booted");
        assert_eq!(EventType::from_libvirt(42), None);
        assert_eq!(EventType::Crashed.detail_word(99), UNKNOWN_DETAIL);
    }

    #[test]
    fn keys_round_trip() {
        for t in ALL {
            assert_eq!(EventType::from_key(t.key()), Some(t));
        }
    }
}
