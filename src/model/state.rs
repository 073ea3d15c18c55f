//! libvirt's domain states, with their stored keys and words in one table.

/// A domain's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    NoState,
    Running,
    Blocked,
    Paused,
    Shutdown,
    Shutoff,
    Crashed,
    PmSuspended,
}

/// Every state: its stable storage key and its word for messages.
const TABLE: [(DomainState, &str, &str); 8] = [
    (DomainState::NoState, "nostate", "in no state"),
    (DomainState::Running, "running", "running"),
    (DomainState::Blocked, "blocked", "blocked"),
    (DomainState::Paused, "paused", "paused"),
    (DomainState::Shutdown, "shutdown", "shutting down"),
    (DomainState::Shutoff, "shutoff", "shut off"),
    (DomainState::Crashed, "crashed", "crashed"),
    (
        DomainState::PmSuspended,
        "pmsuspended",
        "suspended by guest power management",
    ),
];

impl DomainState {
    /// The state's row in `TABLE`: a new state does not compile until it has one.
    const fn index(self) -> usize {
        match self {
            DomainState::NoState => 0,
            DomainState::Running => 1,
            DomainState::Blocked => 2,
            DomainState::Paused => 3,
            DomainState::Shutdown => 4,
            DomainState::Shutoff => 5,
            DomainState::Crashed => 6,
            DomainState::PmSuspended => 7,
        }
    }

    fn row(self) -> &'static (DomainState, &'static str, &'static str) {
        &TABLE[self.index()]
    }

    /// A stable key for storage.
    pub fn key(self) -> &'static str {
        self.row().1
    }

    /// The state stored under `key`, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        TABLE.iter().find(|row| row.1 == key).map(|row| row.0)
    }

    /// The state as a lower-case word for messages.
    pub fn word(self) -> &'static str {
        self.row().2
    }

    /// libvirt's `virDomainState` number, which is also the state's row.
    pub const fn number(self) -> u32 {
        self.index() as u32
    }

    /// The state with libvirt's `virDomainState` number `n` (NoState for one this
    /// service does not know).
    pub fn from_number(n: u64) -> Self {
        usize::try_from(n)
            .ok()
            .and_then(|i| TABLE.get(i))
            .map_or(DomainState::NoState, |row| row.0)
    }

    /// Whether the domain is off: shut off, or crashed and not restarted. An off
    /// domain has no counters, and only an off one can have a managed save image.
    pub fn is_off(self) -> bool {
        matches!(self, DomainState::Shutoff | DomainState::Crashed)
    }

    /// Whether the domain is running in any form (libvirt's "active").
    pub fn is_active(self) -> bool {
        !matches!(self, DomainState::Shutoff | DomainState::NoState)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_own_row_and_its_key_round_trips() {
        for (index, (state, key, _)) in TABLE.iter().enumerate() {
            assert_eq!(state.index(), index, "{state:?} is not in its own row");
            assert_eq!(DomainState::from_key(key), Some(*state));
        }
    }
}
