//! How a holder describes itself to whoever waits: pid, node and start time in the
//! lock file, pid and node in PostgreSQL's `application_name`.

use std::time::SystemTime;

use crate::model::rfc3339;

/// This process as a holder: pid, node, start time.
pub(super) fn describe_self() -> String {
    format!(
        "pid={} node={} since={}",
        std::process::id(),
        node_name(),
        rfc3339(SystemTime::now())
    )
}

/// The PostgreSQL `application_name` of the dedicated connection (63 bytes at most).
pub(super) fn session_name() -> String {
    let mut name = format!("virtplane pid={} node={}", std::process::id(), node_name());
    name.truncate(63);
    name
}

fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}
