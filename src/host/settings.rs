//! How the host reports to the fleet, and how it judges other hosts.

use std::time::Duration;

use crate::model::Labels;

/// `[host]`: heartbeats, when a host counts as down, and the host's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How often the agent updates its row.
    pub heartbeat_interval: Duration,
    /// A host whose last heartbeat is older than this is reported down.
    pub down_after: Duration,
    /// How often `WatchHosts` reads the hosts table for changes.
    pub watch_interval: Duration,
    /// Stored with the host, for `ListHosts` label selectors.
    pub labels: Labels,
}

impl Default for Settings {
    fn default() -> Self {
        // Nova's report_interval and service_down_time.
        Settings {
            heartbeat_interval: Duration::from_secs(10),
            down_after: Duration::from_secs(60),
            watch_interval: Duration::from_secs(1),
            labels: Labels::new(),
        }
    }
}
