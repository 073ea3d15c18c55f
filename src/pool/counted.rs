//! A deadpool manager wrapper that counts connections opened, requests served and
//! connections discarded, for `ListPools` and metrics.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use deadpool::managed::{Manager, Metrics, RecycleResult};

/// A pool's lifetime counters.
#[derive(Debug, Default)]
pub struct Counters {
    opened: AtomicU64,
    discarded: AtomicU64,
    requests: AtomicU64,
    /// A moving average of how long a checkout keeps its connection, in
    /// microseconds; 0 until the first one is given back.
    hold_micros: AtomicU64,
}

impl Counters {
    /// Connections opened.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Connections found broken (or broken in use) and closed.
    pub fn discarded(&self) -> u64 {
        self.discarded.load(Ordering::Relaxed)
    }

    /// Checkouts served.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_discard(&self) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts in how long one checkout kept its connection.
    pub(crate) fn record_hold(&self, held: Duration) {
        let sample = u64::try_from(held.as_micros()).unwrap_or(u64::MAX).max(1);
        // An eighth of each new sample: recent load counts, one outlier does not.
        let _ = self
            .hold_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mean| {
                Some(if mean == 0 {
                    sample
                } else {
                    mean - mean / 8 + sample / 8
                })
            });
    }

    /// How long a checkout keeps its connection, on recent average; `None` before any
    /// was given back.
    pub fn mean_hold(&self) -> Option<Duration> {
        match self.hold_micros.load(Ordering::Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }
}

/// Wraps a manager and counts what it does.
#[derive(Debug)]
pub struct Counted<M> {
    inner: M,
    counters: Arc<Counters>,
}

impl<M> Counted<M> {
    pub(crate) fn new(inner: M, counters: Arc<Counters>) -> Self {
        Counted { inner, counters }
    }

    /// The wrapped manager.
    pub fn inner(&self) -> &M {
        &self.inner
    }
}

impl<M: Manager> Manager for Counted<M> {
    type Type = M::Type;
    type Error = M::Error;

    async fn create(&self) -> Result<M::Type, M::Error> {
        let created = self.inner.create().await;
        if created.is_ok() {
            self.counters.opened.fetch_add(1, Ordering::Relaxed);
        }
        created
    }

    async fn recycle(&self, obj: &mut M::Type, metrics: &Metrics) -> RecycleResult<M::Error> {
        let recycled = self.inner.recycle(obj, metrics).await;
        if recycled.is_err() {
            // deadpool drops an object that failed its check and tries the next one.
            self.counters.count_discard();
        }
        recycled
    }

    fn detach(&self, obj: &mut M::Type) {
        self.inner.detach(obj);
    }
}
