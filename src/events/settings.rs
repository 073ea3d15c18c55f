//! How lifecycle events are queued, fanned out, reconciled and kept.

use std::time::Duration;

/// Lifecycle event plumbing.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Events libvirt's callback may queue before an overflow forces a reconciliation.
    pub queue_capacity: usize,
    /// Events a watcher may fall behind before its stream ends with RESOURCE_EXHAUSTED.
    pub watch_buffer: usize,
    /// How long lifecycle events are kept before they are pruned; `None` keeps every
    /// event. Domain states are never pruned.
    pub retention: Option<Duration>,
    /// How long delivered (or refused) notifications stay in the outbox, visible to
    /// `ListWebhookDeliveries`, before they are deleted. Pending ones are never deleted.
    pub outbox_retention: Duration,
    /// A reconciliation with libvirt this often even when nothing looks wrong
    /// (`None`: only after connects and queue overflows).
    pub resync_interval: Option<Duration>,
}
