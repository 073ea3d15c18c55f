//! Which domains libvirt said something about since the inventory last looked: a set
//! of UUIDs marked from libvirt's event thread and drained by the inventory's refresh
//! task.
//!
//! A set, not a queue: a burst of events about one domain costs one re-read, and
//! marking never blocks or allocates beyond the set's growth, so the event thread
//! never waits for the refresh, nor for the database.

use std::{
    collections::HashSet,
    sync::{Mutex, PoisonError},
};

use tokio::sync::Notify;

/// Domains touched by an event and not yet re-read.
#[derive(Debug, Default)]
pub struct TouchedDomains {
    uuids: Mutex<HashSet<String>>,
    wake: Notify,
}

impl TouchedDomains {
    /// Marks the domain `uuid` for a re-read; called on libvirt's event thread.
    pub fn mark(&self, uuid: &str) {
        // Only the first mark after a drain wakes the task: later ones join its batch.
        let was_empty = {
            let mut uuids = self.uuids.lock().unwrap_or_else(PoisonError::into_inner);
            let was_empty = uuids.is_empty();
            if !uuids.contains(uuid) {
                uuids.insert(uuid.to_owned());
            }
            was_empty
        };
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Takes every marked domain, waiting until at least one is marked.
    pub async fn next_batch(&self) -> Vec<String> {
        loop {
            let notified = self.wake.notified();
            let batch = self.take();
            if !batch.is_empty() {
                return batch;
            }
            notified.await;
        }
    }

    fn take(&self) -> Vec<String> {
        let mut uuids = self.uuids.lock().unwrap_or_else(PoisonError::into_inner);
        uuids.drain().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_about_one_domain_is_one_re_read() {
        let touched = TouchedDomains::default();
        touched.mark("a");
        touched.mark("a");
        touched.mark("b");
        let mut batch = touched.next_batch().await;
        batch.sort();
        assert_eq!(batch, ["a", "b"]);
        assert!(touched.take().is_empty());
    }
}
