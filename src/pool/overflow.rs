//! Connections opened beyond a full pool (urllib3's `block = false`): never pooled,
//! closed and counted as discarded when dropped.

use std::{fmt, sync::Arc};

use deadpool::managed::Manager;

use super::{AcquireError, Counters, PoolGroup, PoolKey};

/// A connection opened beyond a full pool (urllib3's `block = false`): it is never
/// pooled, and dropping it closes it and counts it as discarded.
pub struct Overflow<M: Manager> {
    conn: M::Type,
    counters: Arc<Counters>,
}

impl<M: Manager> fmt::Debug for Overflow<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overflow").finish_non_exhaustive()
    }
}

impl<M: Manager> std::ops::Deref for Overflow<M> {
    type Target = M::Type;
    fn deref(&self) -> &M::Type {
        &self.conn
    }
}

impl<M: Manager> std::ops::DerefMut for Overflow<M> {
    fn deref_mut(&mut self) -> &mut M::Type {
        &mut self.conn
    }
}

impl<M: Manager> Drop for Overflow<M> {
    // The connection itself is closed when its field is dropped, right after this.
    fn drop(&mut self) {
        self.counters.count_discard();
    }
}

impl<K: PoolKey, M: Manager + 'static> PoolGroup<K, M>
where
    M::Error: fmt::Display,
{
    /// Opens a connection for `key` outside its pool's limit, for callers that must
    /// not wait when the pool is full (after a non-blocking [`PoolGroup::acquire`],
    /// which counted the request). Counted as opened, and as discarded when dropped.
    ///
    /// # Errors
    /// Opening failed or took longer than the create timeout.
    pub async fn overflow(&self, key: &K) -> Result<Overflow<M>, AcquireError<M::Error>> {
        let (pool, counters) = self.pool_for(key)?;
        match tokio::time::timeout(self.settings.create_timeout, pool.manager().create()).await {
            Ok(Ok(conn)) => Ok(Overflow { conn, counters }),
            Ok(Err(source)) => Err(AcquireError::Connect {
                pool: key.redacted(),
                source,
            }),
            Err(_) => Err(AcquireError::Timeout {
                pool: key.redacted(),
            }),
        }
    }
}
