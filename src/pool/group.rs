//! A group of pools keyed by connection parameters: the key map, each pool created on
//! first use with its own size, and closing them all.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use deadpool::{
    Runtime,
    managed::{Manager, Pool, QueueMode},
};

use super::{AcquireError, Counted, Counters, PoolKey, PoolSettings};

/// Picks a pool's size from its key.
type SizeFor<K> = Box<dyn Fn(&K) -> usize + Send + Sync>;

/// A pool and its counters, as handed out of the group's lock.
pub(super) type PoolHandle<M> = (Pool<Counted<M>>, Arc<Counters>);

pub(super) struct Entry<K, M: Manager> {
    pub(super) key: K,
    pub(super) pool: Pool<Counted<M>>,
    pub(super) counters: Arc<Counters>,
    pub(super) last_used: Instant,
}

/// Pools keyed by `K`, each managed by an `M` made from its key.
pub struct PoolGroup<K: PoolKey, M: Manager> {
    pub(super) kind: &'static str,
    pub(super) max_pools: usize,
    pub(super) settings: PoolSettings,
    make_manager: Box<dyn Fn(&K) -> M + Send + Sync>,
    max_size_for: Option<SizeFor<K>>,
    // A handful of pools per host: a vector scanned under a short lock is simplest.
    pools: Mutex<Vec<Entry<K, M>>>,
}

impl<K: PoolKey, M: Manager> fmt::Debug for PoolGroup<K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolGroup")
            .field("kind", &self.kind)
            .field("pools", &self.pools.lock().map_or(0, |p| p.len()))
            .finish_non_exhaustive()
    }
}

impl<K: PoolKey, M: Manager + 'static> PoolGroup<K, M>
where
    M::Error: fmt::Display,
{
    /// An empty group of at most `max_pools` pools of kind `kind` ("amqp", "http").
    pub fn new(
        kind: &'static str,
        max_pools: usize,
        settings: PoolSettings,
        make_manager: impl Fn(&K) -> M + Send + Sync + 'static,
    ) -> Self {
        PoolGroup {
            kind,
            max_pools: max_pools.max(1),
            settings,
            make_manager: Box::new(make_manager),
            max_size_for: None,
            pools: Mutex::new(Vec::new()),
        }
    }

    /// Sizes each pool by its key (several configured names may share one key).
    #[must_use]
    pub fn with_max_size_for(mut self, size: impl Fn(&K) -> usize + Send + Sync + 'static) -> Self {
        self.max_size_for = Some(Box::new(size));
        self
    }

    /// Closes every pool; checked-out connections are closed when returned.
    pub fn close_all(&self) {
        for entry in self.lock().drain(..) {
            entry.pool.close();
        }
    }

    /// `key`'s pool, created (after evicting an idle one, at the limit) on first use.
    pub(super) fn pool_for(&self, key: &K) -> Result<PoolHandle<M>, AcquireError<M::Error>> {
        let mut pools = self.lock();
        let now = Instant::now();
        if let Some(entry) = pools.iter_mut().find(|e| &e.key == key) {
            entry.last_used = now;
            return Ok((entry.pool.clone(), Arc::clone(&entry.counters)));
        }
        if pools.len() >= self.max_pools {
            self.evict_one(&mut pools, key)?;
        }
        let counters = Arc::new(Counters::default());
        let pool = self.build_pool(key, Arc::clone(&counters))?;
        pools.push(Entry {
            key: key.clone(),
            pool: pool.clone(),
            counters: Arc::clone(&counters),
            last_used: now,
        });
        Ok((pool, counters))
    }

    /// A new pool for `key`, sized by its key, that opens nothing yet.
    fn build_pool(
        &self,
        key: &K,
        counters: Arc<Counters>,
    ) -> Result<Pool<Counted<M>>, AcquireError<M::Error>> {
        let manager = Counted::new((self.make_manager)(key), counters);
        let max_size = self
            .max_size_for
            .as_ref()
            .map_or(self.settings.max_size, |size| size(key))
            .max(1);
        Pool::builder(manager)
            .max_size(max_size)
            .queue_mode(if self.settings.lifo {
                QueueMode::Lifo
            } else {
                QueueMode::Fifo
            })
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|_| AcquireError::Closed {
                pool: key.redacted(),
            })
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry<K, M>>> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
