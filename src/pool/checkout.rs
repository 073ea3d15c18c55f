//! Checking a connection out of its pool, under one deadline for the wait, the open
//! and the check, and closing one found broken in use instead of returning it.

use std::{fmt, time::Duration};

use deadpool::managed::{Manager, Object, PoolError, TimeoutType, Timeouts};

use super::{Acquire, AcquireError, Counted, PoolGroup, PoolKey};

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
        attempt.map_err(|e| checkout_error(e, key, pool.status().max_size, mode))
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

/// deadpool's error as ours, naming the pool by its redacted key.
fn checkout_error<K: PoolKey, E: fmt::Display>(
    e: PoolError<E>,
    key: &K,
    max_size: usize,
    mode: Acquire,
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
