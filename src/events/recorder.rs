//! The lifecycle recorder: the one task that writes this host's events.
//!
//! It drains libvirt's event queue in batches (one transaction per batch), keeps
//! the known domain states in step, reconciles after every connect and after a
//! queue overflow, and publishes what it stored to the watchers.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use super::{Change, EventHub, EventType, KnownDomains, NewEvent, apply, reconcile};
use crate::{
    hypervisor::{BoxFuture, ConnectionListener, EventSource, Hypervisor, RawLifecycleEvent},
    store::{KnownChanges, Store},
};

/// Events stored per transaction at most.
const MAX_BATCH: usize = 1024;

/// Counters shown by `GetHost`.
#[derive(Debug, Default)]
pub struct EventStats {
    /// Events stored (observed and synthetic).
    pub recorded: AtomicU64,
    pub resyncs: AtomicU64,
    pub reconciliations: AtomicU64,
}

/// Asks the recorder to reconcile after each successful connect.
#[derive(Debug, Clone)]
pub struct ReconcileTrigger {
    tx: mpsc::UnboundedSender<()>,
}

impl ConnectionListener for ReconcileTrigger {
    fn connected(&self) -> BoxFuture<'_> {
        // Only a message: the connect path holds the connection lock, and the
        // reconciliation needs the connection.
        let _ = self.tx.send(());
        Box::pin(async {})
    }

    fn disconnected<'a>(&'a self, _reason: &'a str) -> BoxFuture<'a> {
        Box::pin(async {})
    }
}

/// The recorder, before it runs.
#[derive(Debug)]
pub struct LifecycleRecorder {
    store: Store,
    hostname: String,
    hub: EventHub,
    stats: Arc<EventStats>,
    source: EventSource,
    reconcile_rx: mpsc::UnboundedReceiver<()>,
    known: KnownDomains,
    /// Where notifications of the events go, when configured.
    outboxes: Vec<crate::store::Outbox>,
    /// A batch is published to watchers at once: keeping it to a quarter of their
    /// buffer lets a watcher that keeps up absorb a whole burst.
    batch_limit: usize,
}

impl LifecycleRecorder {
    /// Prepares the recorder and the trigger that the connection will call.
    ///
    /// # Errors
    /// The known domain states cannot be loaded.
    pub async fn new(
        store: Store,
        hostname: String,
        source: EventSource,
        hub: EventHub,
        watch_buffer: usize,
        outboxes: Vec<crate::store::Outbox>,
    ) -> Result<(Self, ReconcileTrigger, Arc<EventStats>), crate::store::StoreError> {
        let known = store
            .known_domains(&hostname)
            .await?
            .into_iter()
            .map(|k| (k.uuid.clone(), k))
            .collect();
        let (tx, reconcile_rx) = mpsc::unbounded_channel();
        let stats = Arc::new(EventStats::default());
        let recorder = LifecycleRecorder {
            store,
            hostname,
            hub,
            stats: Arc::clone(&stats),
            source,
            reconcile_rx,
            known,
            outboxes,
            batch_limit: (watch_buffer / 4).clamp(1, MAX_BATCH),
        };
        Ok((recorder, ReconcileTrigger { tx }, stats))
    }

    /// Runs until `stop` resolves, then stores what is still queued.
    pub async fn run(
        mut self,
        hypervisor: Arc<Hypervisor>,
        stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        let mut batch = Vec::with_capacity(self.batch_limit);
        let limit = self.batch_limit;
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => {
                    self.drain_queue(&mut batch).await;
                    break;
                }
                Some(()) = self.reconcile_rx.recv() => {
                    // Coalesce: several connects in a row need one reconciliation.
                    while self.reconcile_rx.try_recv().is_ok() {}
                    self.drain_queue(&mut batch).await;
                    self.reconcile(&hypervisor).await;
                }
                () = self.source.sink.overflow_signalled() => {
                    self.drain_queue(&mut batch).await;
                    if self.source.sink.take_overflow() {
                        self.stats.resyncs.fetch_add(1, Ordering::Relaxed);
                        warn!("lifecycle event queue overflowed; reconciling to cover the gap");
                        self.reconcile(&hypervisor).await;
                    }
                }
                received = self.source.queue.recv_many(&mut batch, limit) => {
                    if received == 0 {
                        break;
                    }
                    self.persist_raw(&mut batch).await;
                }
            }
        }
    }

    async fn drain_queue(&mut self, batch: &mut Vec<RawLifecycleEvent>) {
        while let Ok(event) = self.source.queue.try_recv() {
            batch.push(event);
            if batch.len() >= self.batch_limit {
                self.persist_raw(batch).await;
            }
        }
        self.persist_raw(batch).await;
    }

    async fn persist_raw(&mut self, batch: &mut Vec<RawLifecycleEvent>) {
        if batch.is_empty() {
            return;
        }
        let mut events = Vec::with_capacity(batch.len());
        let mut changes = std::collections::HashMap::new();
        for raw in batch.drain(..) {
            let Some(kind) = EventType::from_libvirt(raw.event) else {
                debug!(
                    event = raw.event,
                    "ignoring a lifecycle event type this service does not know"
                );
                continue;
            };
            let event = NewEvent {
                detail: kind.detail_word(raw.detail).to_owned(),
                domain_uuid: raw.domain_uuid,
                domain_name: raw.domain_name,
                kind,
                synthetic: false,
                occurred_at_micros: raw.occurred_at_micros,
            };
            let change = apply(&mut self.known, &event);
            changes.insert(event.domain_uuid.clone(), change);
            events.push(event);
        }
        let mut known = KnownChanges::default();
        for (uuid, change) in changes {
            match change {
                Change::Upsert(k) => known.upserts.push(k),
                Change::Remove(_) => known.removals.push(uuid),
            }
        }
        self.store_and_publish(&events, &known).await;
    }

    async fn reconcile(&mut self, hypervisor: &Hypervisor) {
        let live = match hypervisor.list_domains().await {
            Ok(live) => live,
            Err(e) => {
                // The next connect triggers another attempt.
                warn!(error = %e, "reconciliation skipped: cannot list domains");
                return;
            }
        };
        let now = crate::hypervisor::now_micros();
        let (events, next) = reconcile(&self.known, &live, now);
        let changes = KnownChanges {
            upserts: next.values().cloned().collect(),
            removals: self
                .known
                .keys()
                .filter(|uuid| !next.contains_key(*uuid))
                .cloned()
                .collect(),
        };
        self.store_and_publish(&events, &changes).await;
        self.known = next;
        self.stats.reconciliations.fetch_add(1, Ordering::Relaxed);
        if !events.is_empty() {
            info!(
                synthetic_events = events.len(),
                "reconciled domain states with libvirt"
            );
        }
    }

    /// Stores a batch, retrying while the database is unavailable: events are not
    /// dropped because the database blinked.
    async fn store_and_publish(&mut self, events: &[NewEvent], changes: &KnownChanges) {
        let mut delay = Duration::from_millis(100);
        loop {
            match self
                .store
                .record_events(&self.hostname, events, changes, &self.outboxes)
                .await
            {
                Ok(recorded) => {
                    self.stats
                        .recorded
                        .fetch_add(recorded.len() as u64, Ordering::Relaxed);
                    if !recorded.is_empty() {
                        for outbox in &self.outboxes {
                            outbox.wake.notify_one();
                        }
                    }
                    for event in recorded {
                        self.hub.publish(event);
                    }
                    return;
                }
                Err(e) => {
                    error!(error = %e, retry_in = ?delay, "cannot store lifecycle events");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}
