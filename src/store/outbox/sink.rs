//! One destination of notifications: its sink name, the events it takes, and how
//! producers wake its deliverer.

use std::sync::Arc;

use tokio::sync::Notify;
use tracing::warn;

use super::NewNotification;
use crate::{model::EventType, store::Store};

/// One destination of notifications: its sink name in the table, which lifecycle
/// events it takes, and how producers wake its deliverer.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub sink: String,
    /// `None`: every lifecycle event.
    pub types: Option<Vec<EventType>>,
    pub wake: Arc<Notify>,
}

impl Outbox {
    /// An outbox for `sink` taking the lifecycle events of `types` (all if `None`).
    pub fn new(sink: impl Into<String>, types: Option<Vec<EventType>>) -> Self {
        Outbox {
            sink: sink.into(),
            types,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Whether lifecycle events of type `kind` go to this sink.
    pub fn takes(&self, kind: EventType) -> bool {
        self.types
            .as_ref()
            .is_none_or(|types| types.contains(&kind))
    }

    /// Enqueues one notification; failures are logged (the event itself is stored).
    pub async fn enqueue(&self, store: &Store, hostname: &str, notification: NewNotification) {
        match store.enqueue(hostname, &self.sink, &[notification]).await {
            Ok(()) => self.wake.notify_one(),
            Err(e) => warn!(error = %e, "cannot enqueue a notification"),
        }
    }
}
