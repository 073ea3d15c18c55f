//! The pool group's behaviour end to end: sharing, limits, checks, order, eviction.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use deadpool::managed::{Manager, Metrics, RecycleError, RecycleResult};

use super::{Acquire, AcquireError, PoolGroup, PoolKey, PoolSettings};

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
async fn an_exhausted_pool_says_when_a_connection_is_likely_free_once_it_knows_hold_times() {
    let (group, _) = group(4, 2, false);
    let first = group.acquire(&Key("a"), WAIT).await.expect("first");
    let second = group.acquire(&Key("a"), WAIT).await.expect("second");
    let unknown = group.acquire(&Key("a"), Acquire::NonBlocking).await;
    assert!(matches!(
        unknown,
        Err(AcquireError::Exhausted {
            likely_free_in: None,
            ..
        })
    ));

    group.record_hold(&Key("a"), Duration::from_millis(300));
    let estimated = group.acquire(&Key("a"), Acquire::NonBlocking).await;

    // Two connections kept 300 ms each: one frees every 150 ms on average.
    assert!(
        matches!(
            estimated,
            Err(AcquireError::Exhausted {
                likely_free_in: Some(d),
                ..
            }) if d == Duration::from_millis(150)
        ),
        "{estimated:?}"
    );
    drop((first, second));
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
