//! A group of pools keyed by connection parameters.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use deadpool::{
    Runtime,
    managed::{Manager, Object, Pool, PoolError, QueueMode, TimeoutType, Timeouts},
};

use super::{Counted, Counters, PoolKey};

/// A checked-out connection; dropping it returns it to its pool.
pub type Pooled<M> = Object<Counted<M>>;

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

/// How each pool of a group behaves.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections per pool, in use and idle together, unless
    /// [`PoolGroup::with_max_size_for`] sets one per key.
    pub max_size: usize,
    /// Time allowed to open one connection.
    pub create_timeout: Duration,
    /// Time allowed for the health check of an idle connection on checkout; `None`
    /// when the check is local (no I/O) and needs no timer.
    pub recycle_timeout: Option<Duration>,
    /// LIFO hands out the most recently used idle connection first (warm, least
    /// likely dropped by the peer); FIFO spreads use over all of them.
    pub lifo: bool,
}

/// Whether a checkout may wait for a connection to be returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// Wait up to this long (one deadline for the wait, the open and the check).
    Blocking(Duration),
    /// Fail at once when the pool is at its limit.
    NonBlocking,
}

/// Why a checkout failed.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError<E: fmt::Display> {
    /// Every connection was in use until the deadline (or at once, non-blocking).
    #[error("pool {pool} is exhausted: all {max_size} connections stayed in use{}", waited_for(.waited))]
    Exhausted {
        pool: String,
        max_size: usize,
        waited: Option<Duration>,
    },
    /// Opening a connection failed.
    #[error("pool {pool}: cannot open a connection: {source}")]
    Connect { pool: String, source: E },
    /// Opening or checking a connection took longer than allowed.
    #[error("pool {pool}: opening or checking a connection timed out")]
    Timeout { pool: String },
    /// The group holds its maximum of pools and every one is busy.
    #[error("cannot create a pool for {pool}: all {max_pools} pools are in use")]
    TooManyPools { pool: String, max_pools: usize },
    /// The pool was closed (evicted or shutting down) during the checkout.
    #[error("pool {pool} was closed")]
    Closed { pool: String },
}

fn waited_for(waited: &Option<Duration>) -> String {
    waited.map_or_else(
        || " (non-blocking checkout)".to_owned(),
        |w| format!(" for {} ms", w.as_millis()),
    )
}

/// A snapshot of one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    pub kind: &'static str,
    /// The key with credentials hidden.
    pub key: String,
    pub max_size: usize,
    /// Connections open, idle and in use.
    pub size: usize,
    pub idle: usize,
    pub in_use: usize,
    pub waiters: usize,
    pub opened: u64,
    pub discarded: u64,
    pub requests: u64,
}

/// Picks a pool's size from its key.
type SizeFor<K> = Box<dyn Fn(&K) -> usize + Send + Sync>;

/// A pool and its counters, as handed out of the group's lock.
type PoolHandle<M> = (Pool<Counted<M>>, Arc<Counters>);

struct Entry<K, M: Manager> {
    key: K,
    pool: Pool<Counted<M>>,
    counters: Arc<Counters>,
    last_used: Instant,
}

/// Pools keyed by `K`, each managed by an `M` made from its key.
pub struct PoolGroup<K: PoolKey, M: Manager> {
    kind: &'static str,
    max_pools: usize,
    settings: PoolSettings,
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
        let timeouts = match mode {
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
        };
        let name = || key.redacted();
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
        attempt.map_err(|e| match e {
            PoolError::Timeout(TimeoutType::Wait) => AcquireError::Exhausted {
                pool: name(),
                max_size: pool.status().max_size,
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
        })
    }

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

    /// Closes a connection found broken in use instead of returning it.
    pub fn discard(&self, key: &K, conn: Pooled<M>) {
        let _ = Object::take(conn);
        if let Some(entry) = self.lock().iter().find(|e| &e.key == key) {
            entry.counters.count_discard();
        }
    }

    /// A snapshot of every pool.
    pub fn stats(&self) -> Vec<PoolStats> {
        self.lock()
            .iter()
            .map(|entry| {
                let status = entry.pool.status();
                PoolStats {
                    kind: self.kind,
                    key: entry.key.redacted(),
                    max_size: status.max_size,
                    size: status.size,
                    idle: status.available,
                    in_use: status.size.saturating_sub(status.available),
                    waiters: status.waiting,
                    opened: entry.counters.opened(),
                    discarded: entry.counters.discarded(),
                    requests: entry.counters.requests(),
                }
            })
            .collect()
    }

    /// Closes every pool; checked-out connections are closed when returned.
    pub fn close_all(&self) {
        for entry in self.lock().drain(..) {
            entry.pool.close();
        }
    }

    fn pool_for(&self, key: &K) -> Result<PoolHandle<M>, AcquireError<M::Error>> {
        let mut pools = self.lock();
        let now = Instant::now();
        if let Some(entry) = pools.iter_mut().find(|e| &e.key == key) {
            entry.last_used = now;
            return Ok((entry.pool.clone(), Arc::clone(&entry.counters)));
        }
        if pools.len() >= self.max_pools {
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
        }
        let counters = Arc::new(Counters::default());
        let manager = Counted::new((self.make_manager)(key), Arc::clone(&counters));
        let max_size = self
            .max_size_for
            .as_ref()
            .map_or(self.settings.max_size, |size| size(key))
            .max(1);
        let pool = Pool::builder(manager)
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
            })?;
        pools.push(Entry {
            key: key.clone(),
            pool: pool.clone(),
            counters: Arc::clone(&counters),
            last_used: now,
        });
        Ok((pool, counters))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry<K, M>>> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    use deadpool::managed::{Metrics, RecycleError, RecycleResult};

    use super::*;

    #[derive(Clone, PartialEq, Eq, Hash, Debug)]
    struct Key(&'static str);

    impl PoolKey for Key {
        fn redacted(&self) -> String {
            format!("test://{}", self.0)
        }
    }

    /// Connections are numbers; a shared switch makes every idle one fail its check.
    #[derive(Debug)]
    struct Numbers {
        next: AtomicU32,
        broken: Arc<AtomicBool>,
    }

    impl Manager for Numbers {
        type Type = u32;
        type Error = String;

        async fn create(&self) -> Result<u32, String> {
            Ok(self.next.fetch_add(1, Ordering::SeqCst))
        }

        async fn recycle(&self, _: &mut u32, _: &Metrics) -> RecycleResult<String> {
            if self.broken.load(Ordering::SeqCst) {
                Err(RecycleError::message("peer closed the connection"))
            } else {
                Ok(())
            }
        }
    }

    fn group(
        max_pools: usize,
        max_size: usize,
        lifo: bool,
    ) -> (PoolGroup<Key, Numbers>, Arc<AtomicBool>) {
        let broken = Arc::new(AtomicBool::new(false));
        let switch = Arc::clone(&broken);
        let settings = PoolSettings {
            max_size,
            create_timeout: Duration::from_secs(1),
            recycle_timeout: Some(Duration::from_secs(1)),
            lifo,
        };
        let group = PoolGroup::new("test", max_pools, settings, move |_| Numbers {
            next: AtomicU32::new(0),
            broken: Arc::clone(&switch),
        });
        (group, broken)
    }

    const WAIT: Acquire = Acquire::Blocking(Duration::from_millis(50));

    #[tokio::test]
    async fn equal_keys_share_one_pool_that_opens_nothing_until_needed() {
        let (group, _) = group(4, 2, false);
        assert!(group.stats().is_empty());
        let first = group.acquire(&Key("a"), WAIT).await.expect("first");
        drop(first);
        let again = group.acquire(&Key("a"), WAIT).await.expect("again");
        assert_eq!(*again, 0, "the returned connection is reused");
        let stats = group.stats();
        assert_eq!(stats.len(), 1);
        assert_eq!(
            (stats[0].opened, stats[0].requests, stats[0].in_use),
            (1, 2, 1)
        );
    }

    #[tokio::test]
    async fn a_full_pool_times_out_blocking_and_fails_at_once_non_blocking() {
        let (group, _) = group(4, 1, false);
        let held = group.acquire(&Key("a"), WAIT).await.expect("first");
        let blocked = group.acquire(&Key("a"), WAIT).await.expect_err("exhausted");
        assert!(
            matches!(
                blocked,
                AcquireError::Exhausted {
                    waited: Some(_),
                    ..
                }
            ),
            "{blocked}"
        );
        assert!(blocked.to_string().contains("test://a"), "{blocked}");
        let at_once = group
            .acquire(&Key("a"), Acquire::NonBlocking)
            .await
            .expect_err("exhausted");
        assert!(matches!(
            at_once,
            AcquireError::Exhausted { waited: None, .. }
        ));
        drop(held);
        drop(
            group
                .acquire(&Key("a"), Acquire::NonBlocking)
                .await
                .expect("free again"),
        );
    }

    #[tokio::test]
    async fn a_connection_that_fails_its_check_is_replaced_and_counted() {
        let (group, broken) = group(4, 2, false);
        drop(group.acquire(&Key("a"), WAIT).await.expect("first"));
        broken.store(true, Ordering::SeqCst);
        let fresh = group.acquire(&Key("a"), WAIT).await.expect("replacement");
        assert_eq!(*fresh, 1, "a new connection, not the broken one");
        let stats = &group.stats()[0];
        assert_eq!((stats.opened, stats.discarded), (2, 1));
        group.discard(&Key("a"), fresh);
        assert_eq!(group.stats()[0].discarded, 2);
    }

    #[tokio::test]
    async fn each_key_can_have_its_own_limit() {
        let (group, _) = group(4, 1, false);
        let group = group.with_max_size_for(|key: &Key| if key.0 == "big" { 3 } else { 1 });
        let _a = group.acquire(&Key("big"), WAIT).await.expect("1");
        let _b = group.acquire(&Key("big"), WAIT).await.expect("2");
        let _c = group.acquire(&Key("big"), WAIT).await.expect("3");
        let _d = group.acquire(&Key("small"), WAIT).await.expect("1");
        let err = group
            .acquire(&Key("small"), Acquire::NonBlocking)
            .await
            .expect_err("full");
        assert!(
            matches!(err, AcquireError::Exhausted { max_size: 1, .. }),
            "{err}"
        );
        let sizes: Vec<usize> = group.stats().iter().map(|s| s.max_size).collect();
        assert_eq!(sizes, vec![3, 1]);
    }

    #[tokio::test]
    async fn lifo_hands_out_the_most_recently_returned_connection() {
        let (group, _) = group(4, 3, true);
        let a = group.acquire(&Key("a"), WAIT).await.expect("a");
        let b = group.acquire(&Key("a"), WAIT).await.expect("b");
        let (first, second) = (*a, *b);
        drop(a);
        drop(b);
        assert_eq!(*group.acquire(&Key("a"), WAIT).await.expect("next"), second);
        let _ = first;
    }

    #[tokio::test]
    async fn the_least_recently_used_idle_pool_is_evicted_but_never_a_busy_one() {
        let (group, _) = group(2, 1, false);
        let busy = group.acquire(&Key("a"), WAIT).await.expect("a");
        drop(group.acquire(&Key("b"), WAIT).await.expect("b"));
        drop(
            group
                .acquire(&Key("c"), WAIT)
                .await
                .expect("c evicts idle b"),
        );
        let keys: Vec<String> = group.stats().into_iter().map(|s| s.key).collect();
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&"test://a".to_owned()) && keys.contains(&"test://c".to_owned()));
        let _held_c = group.acquire(&Key("c"), WAIT).await.expect("c");
        let refused = group.acquire(&Key("d"), WAIT).await.expect_err("all busy");
        assert!(
            matches!(refused, AcquireError::TooManyPools { .. }),
            "{refused}"
        );
        drop(busy);
    }
}
