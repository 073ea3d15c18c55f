//! Where libvirt's callbacks put what they observe, without ever blocking libvirt's
//! event loop thread.
//!
//! Lifecycle events go into a bounded queue; when it is full the event is dropped,
//! an overflow is flagged, and the consumer reconciles against libvirt's real state
//! to cover the gap. Connection closes set a flag and wake the reconnect task.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::{Notify, mpsc};

use super::touched::TouchedDomains;

/// A domain event as libvirt reported it, lifecycle numbers untranslated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLifecycleEvent {
    pub domain_uuid: String,
    pub domain_name: String,
    pub what: RawWhat,
    /// Microseconds since the Unix epoch, taken in the callback.
    pub occurred_at_micros: i64,
}

/// What a raw event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawWhat {
    /// `virDomainEventType` and its type-specific detail (`virDomainEvent*DetailType`).
    Lifecycle { event: i32, detail: i32 },
    /// A device event (one of the device types) and the device's alias.
    Device {
        kind: crate::model::EventType,
        alias: String,
    },
}

/// The producer side, shared with libvirt's callbacks.
#[derive(Debug)]
pub struct EventSink {
    /// Every event also marks its domain here first, for the inventory: its re-read
    /// never waits for the recorder's queue or the database.
    touched: Arc<TouchedDomains>,
    queue: mpsc::Sender<RawLifecycleEvent>,
    overflowed: AtomicBool,
    wake: Notify,
}

/// The consumer side: the lifecycle recorder owns it.
#[derive(Debug)]
pub struct EventSource {
    pub queue: mpsc::Receiver<RawLifecycleEvent>,
    pub sink: Arc<EventSink>,
}

impl EventSink {
    /// A queue holding up to `capacity` events.
    pub fn new(capacity: usize) -> (Arc<EventSink>, EventSource) {
        let (queue, receiver) = mpsc::channel(capacity.max(1));
        let sink = Arc::new(EventSink {
            touched: Arc::default(),
            queue,
            overflowed: AtomicBool::new(false),
            wake: Notify::new(),
        });
        let source = EventSource {
            queue: receiver,
            sink: Arc::clone(&sink),
        };
        (sink, source)
    }

    /// Hands an event over without blocking; on a full queue flags an overflow.
    pub fn push(&self, event: RawLifecycleEvent) {
        self.touched.mark(&event.domain_uuid);
        if self.queue.try_send(event).is_err() && !self.overflowed.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// Marks a domain changed by an event the recorder does not store (metadata,
    /// tunables, balloon).
    pub fn touch(&self, domain_uuid: &str) {
        self.touched.mark(domain_uuid);
    }

    /// The domains events named, for the inventory's refresh.
    pub fn touched(&self) -> Arc<TouchedDomains> {
        Arc::clone(&self.touched)
    }

    /// Clears and returns the overflow flag.
    pub fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::AcqRel)
    }

    /// Resolves after the next overflow.
    pub async fn overflow_signalled(&self) {
        self.wake.notified().await;
    }
}

/// Set by the close callback; wakes the background reconnect.
#[derive(Debug, Default)]
pub(crate) struct CloseSignal {
    pub(crate) closed: AtomicBool,
    /// Whether the loss was logged and recorded in the status already.
    pub(crate) reported: AtomicBool,
    pub(crate) reason: std::sync::atomic::AtomicI32,
    pub(crate) wake: Arc<Notify>,
}

/// Microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
