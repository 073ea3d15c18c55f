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

use super::{Change, EventHub, KnownDomains, apply, reconcile};
use crate::{
    backoff::Backoff,
    hypervisor::{
        BoxFuture, ConnectionListener, EventSource, Hypervisor, HypervisorError, RawLifecycleEvent,
    },
    model::NewEvent,
    store::{KnownChanges, Store},
};

/// Events stored per transaction at most.
const MAX_BATCH: usize = 1024;
/// The first and the longest wait before a failed reconciliation is tried again.
const RECONCILE_RETRY_INITIAL: Duration = Duration::from_millis(200);
const RECONCILE_RETRY_MAX: Duration = Duration::from_secs(10);

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
    /// A reconciliation even when nothing looks wrong, this often (`None`: never).
    resync_interval: Option<Duration>,
}

/// Whether a reconciliation is owed, and when a failed one may be tried again.
#[derive(Debug)]
struct ReconcileOwed {
    owed: bool,
    backoff: Backoff,
}

impl ReconcileOwed {
    fn new() -> Self {
        ReconcileOwed {
            owed: false,
            backoff: Backoff::new(RECONCILE_RETRY_INITIAL, RECONCILE_RETRY_MAX),
        }
    }

    /// Something asks for a reconciliation: a connect, an overflow, the resync timer.
    /// A retry already waiting keeps its backoff.
    fn now(&mut self) {
        self.owed = true;
    }

    fn is_due(&self) -> bool {
        self.owed && self.backoff.remaining(std::time::Instant::now()).is_none()
    }

    fn is_waiting(&self) -> bool {
        self.owed && !self.is_due()
    }

    async fn retry_due(&self) {
        if let Some(left) = self.backoff.remaining(std::time::Instant::now()) {
            tokio::time::sleep(left).await;
        }
    }

    fn paid(&mut self) {
        self.owed = false;
        self.backoff.record_success();
    }

    fn failed(&mut self) -> Duration {
        self.backoff.record_failure(std::time::Instant::now())
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
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
        settings: &super::Settings,
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
            batch_limit: (settings.watch_buffer / 4).clamp(1, MAX_BATCH),
            resync_interval: settings.resync_interval,
        };
        Ok((recorder, ReconcileTrigger { tx }, stats))
    }

    /// Runs until `stop` resolves, then stores what is still queued, until the
    /// deadline `stop` carries: what is left is covered by the reconciliation after the
    /// next start.
    ///
    /// A reconciliation is owed after every connect, after a queue overflow and every
    /// `resync_interval` (when not zero); one that fails stays owed and is retried
    /// with backoff until it succeeds, so a gap is never left uncovered.
    pub async fn run(mut self, hypervisor: Arc<Hypervisor>, mut stop: crate::workers::Drain) {
        let mut batch = Vec::with_capacity(self.batch_limit);
        let limit = self.batch_limit;
        let mut owed = ReconcileOwed::new();
        let mut resync = self.resync_interval.map(|period| {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick
        });
        loop {
            tokio::select! {
                biased;
                deadline = stop.requested() => {
                    if tokio::time::timeout_at(deadline, self.drain_queue(&mut batch)).await.is_err() {
                        warn!("shutdown deadline reached before every queued lifecycle event was stored; the next start reconciles");
                    }
                    break;
                }
                Some(()) = self.reconcile_rx.recv() => {
                    // Coalesce: several connects in a row need one reconciliation.
                    while self.reconcile_rx.try_recv().is_ok() {}
                    owed.now();
                }
                () = self.source.sink.overflow_signalled() => {
                    if self.source.sink.take_overflow() {
                        self.stats.resyncs.fetch_add(1, Ordering::Relaxed);
                        warn!("lifecycle event queue overflowed; reconciling to cover the gap");
                        owed.now();
                    }
                }
                () = owed.retry_due(), if owed.is_waiting() => {}
                _ = tick(&mut resync), if resync.is_some() => {
                    debug!("periodic resync");
                    owed.now();
                }
                received = self.source.queue.recv_many(&mut batch, limit) => {
                    if received == 0 {
                        break;
                    }
                    self.persist_raw(&mut batch).await;
                }
            }
            if owed.is_due() {
                self.drain_queue(&mut batch).await;
                match self.reconcile(&hypervisor).await {
                    Ok(()) => owed.paid(),
                    Err(e) => {
                        let retry_in = owed.failed();
                        warn!(error = %e, ?retry_in, "reconciliation failed; retrying");
                    }
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
            let Some((kind, detail)) = crate::hypervisor::translate(&raw) else {
                debug!(
                    what = ?raw.what,
                    "ignoring a lifecycle event type this service does not know"
                );
                continue;
            };
            let event = NewEvent {
                detail,
                domain_uuid: raw.domain_uuid,
                domain_name: raw.domain_name,
                kind,
                synthetic: false,
                occurred_at_micros: raw.occurred_at_micros,
            };
            // A device event changes no state: it must not replace the change an
            // earlier event of the batch made.
            if !kind.is_device() {
                let change = apply(&mut self.known, &event);
                changes.insert(event.domain_uuid.clone(), change);
            }
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

    async fn reconcile(&mut self, hypervisor: &Hypervisor) -> Result<(), HypervisorError> {
        let live = hypervisor.run(crate::hypervisor::ListDomainStates).await?;
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
        Ok(())
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
