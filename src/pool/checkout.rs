//! Checking a connection out of its pool, under one deadline for the wait, the open
//! and the check, and closing one found broken in use instead of returning it.

use std::{fmt, time::Duration};

use deadpool::managed::{Manager, Object, PoolError, TimeoutType, Timeouts};

use super::{Acquire, AcquireError, Counted, Counters, PoolGroup, PoolKey};

/// A checked-out connection; dropping it returns it to its pool.
pub type Pooled<M> = Object<Counted<M>>;

impl<K: PoolKey, M: Manager + 'static> PoolGroup<K, M>
where
    M::Error: fmt::Display,
{
    /// Checks a connection out of `key`'s pool, creating the pool on first use.
    ///
    /// # Errors
    /// [`AcquireError`]: exhausted, connect failure, timeout, too many pools, closed.
    pub async fn acquire(
        &self,
        key: &K,
        mode: Acquire,
    ) -> Result<Pooled<M>, AcquireError<M::Error>> {
        let (pool, counters) = self.pool_for(key)?;
        counters.count_request();
        let timeouts = self.timeouts(mode);
        // Fast path: a free slot needs no wait timer. Only a full pool waits.
        let immediate = Timeouts {
            wait: Some(Duration::ZERO),
            ..timeouts
        };
        let attempt = match pool.timeout_get(&immediate).await {
            Err(PoolError::Timeout(TimeoutType::Wait)) if matches!(mode, Acquire::Blocking(_)) => {
                pool.timeout_get(&timeouts).await
            }
            other => other,
        };
        attempt.map_err(|e| {
            let status = pool.status();
            let likely_free_in = likely_free_in(&counters, status.max_size, status.waiting);
            checkout_error(e, key, status.max_size, mode, likely_free_in)
        })
    }

    /// Counts how long a checkout of `key`'s pool kept its connection, for the
    /// estimate an exhausted pool answers with.
    pub fn record_hold(&self, key: &K, held: Duration) {
        if let Some(entry) = self.lock().iter().find(|e| &e.key == key) {
            entry.counters.record_hold(held);
        }
    }

    /// Closes a connection found broken in use instead of returning it.
    pub fn discard(&self, key: &K, conn: Pooled<M>) {
        let _ = Object::take(conn);
        if let Some(entry) = self.lock().iter().find(|e| &e.key == key) {
            entry.counters.count_discard();
        }
    }

    /// deadpool's timeouts for a checkout in `mode`.
    fn timeouts(&self, mode: Acquire) -> Timeouts {
        match mode {
            Acquire::Blocking(wait) => Timeouts {
                wait: Some(wait),
                create: Some(
                    self.settings
                        .create_timeout
                        .min(wait.max(Duration::from_millis(1))),
                ),
                recycle: self.settings.recycle_timeout,
            },
            Acquire::NonBlocking => Timeouts {
                wait: Some(Duration::ZERO),
                create: Some(self.settings.create_timeout),
                recycle: self.settings.recycle_timeout,
            },
        }
    }
}

/// When a connection is likely free for one more caller: `max_size` connections each
/// kept for `mean_hold` free one every `mean_hold / max_size`, and the `waiting`
/// callers ahead take the first ones.
fn likely_free_in(counters: &Counters, max_size: usize, waiting: usize) -> Option<Duration> {
    let mean_hold = counters.mean_hold()?;
    let turns = u32::try_from(waiting.saturating_add(1)).unwrap_or(u32::MAX);
    let size = u32::try_from(max_size.max(1)).unwrap_or(u32::MAX);
    Some(mean_hold.saturating_mul(turns) / size)
}

/// deadpool's error as ours, naming the pool by its redacted key.
fn checkout_error<K: PoolKey, E: fmt::Display>(
    e: PoolError<E>,
    key: &K,
    max_size: usize,
    mode: Acquire,
    likely_free_in: Option<Duration>,
) -> AcquireError<E> {
    let name = || key.redacted();
    match e {
        PoolError::Timeout(TimeoutType::Wait) => AcquireError::Exhausted {
            pool: name(),
            max_size,
            waited: match mode {
                Acquire::Blocking(wait) => Some(wait),
                Acquire::NonBlocking => None,
            },
            likely_free_in,
        },
        PoolError::Timeout(_) => AcquireError::Timeout { pool: name() },
        PoolError::Backend(source) => AcquireError::Connect {
            pool: name(),
            source,
        },
        PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            AcquireError::Closed { pool: name() }
        }
    }
}
