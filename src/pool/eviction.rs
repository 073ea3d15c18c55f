//! At its limit of pools, a group closes the least recently used idle pool to make
//! room, and never a busy one.

use std::fmt;

use deadpool::managed::Manager;

use super::{AcquireError, PoolGroup, PoolKey, group::Entry};

impl<K: PoolKey, M: Manager + 'static> PoolGroup<K, M>
where
    M::Error: fmt::Display,
{
    /// Closes the least recently used idle pool of `pools` to make room for `key`'s.
    ///
    /// # Errors
    /// [`AcquireError::TooManyPools`] when every pool is busy.
    pub(super) fn evict_one(
        &self,
        pools: &mut Vec<Entry<K, M>>,
        key: &K,
    ) -> Result<(), AcquireError<M::Error>> {
        let idle_lru = pools
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                let s = e.pool.status();
                s.size == s.available && s.waiting == 0
            })
            .min_by_key(|(_, e)| e.last_used)
            .map(|(i, _)| i);
        let Some(index) = idle_lru else {
            return Err(AcquireError::TooManyPools {
                pool: key.redacted(),
                max_pools: self.max_pools,
            });
        };
        let evicted = pools.swap_remove(index);
        tracing::info!(kind = self.kind, pool = %evicted.key.redacted(), "closing the least recently used pool");
        evicted.pool.close();
        Ok(())
    }
}
