//! Fans recorded events out to every watcher without letting any of them hold up
//! the recorder: a broadcast ring where a watcher that falls behind by more than its
//! capacity is told so, instead of slowing everyone down.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::model::LifecycleEvent;

/// The live feed of recorded events.
#[derive(Debug, Clone)]
pub struct EventHub {
    tx: broadcast::Sender<Arc<LifecycleEvent>>,
}

impl EventHub {
    /// A hub that lets a watcher lag by up to `capacity` events.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        EventHub { tx }
    }

    /// Every event recorded from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LifecycleEvent>> {
        self.tx.subscribe()
    }

    pub(crate) fn publish(&self, event: LifecycleEvent) {
        // No watcher is not an error.
        let _ = self.tx.send(Arc::new(event));
    }
}
