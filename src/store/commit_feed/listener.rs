//! The listening side, and the announcing side's memory of each host's last event.
//!
//! - Each recorder announces its commit with `pg_notify` in a statement of its own,
//!   after the commit. Inside the transaction the notification would be cheaper by one
//!   round trip, but PostgreSQL serialises the commits of every notifying transaction
//!   (a database-wide lock held through the WAL flush), which would queue all the
//!   fleet's recorders behind each other's flushes. A notify alone writes no WAL.
//! - One listening session per process, opened by the first watch of another host
//!   and held until the store closes. Each watched host has a channel holding its
//!   latest announcement; its watchers wait on it.
//! - A notification is a hint, never the record: it can be lost (an agent stopping
//!   between its commit and its notify, the listening session dropping), so watchers
//!   also read on their interval, and every (re)connection of the listener wakes all
//!   of them to read once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};

use super::announcement::{Announced, announcing_host, decode};
use crate::secret::Secret;

/// The channel recorders notify on, with their hostname as the payload.
pub(in crate::store) const CHANNEL: &str = "virtplane_lifecycle_events";
/// How long the listener waits before connecting again after a failure.
const RECONNECT: Duration = Duration::from_secs(1);

/// The process's listener for other hosts' commits (PostgreSQL only).
#[derive(Debug, Clone)]
pub(in crate::store) struct CommitFeed {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: Secret,
    state: Mutex<State>,
    /// Stops the listener when the store closes.
    closed: Notify,
}

/// A watched host's latest news: what it announced, or `None` for "read the
/// database" (the listener (re)connected and may have missed announcements).
type News = Option<Arc<Announced>>;

#[derive(Debug, Default)]
struct State {
    /// One channel per watched host.
    hosts: HashMap<String, watch::Sender<News>>,
    /// The id of the last event this process committed for each host it records.
    last_committed: HashMap<String, i64>,
    listening: bool,
    closed: bool,
}

/// Wakes when a host committed lifecycle events (or may have: see the module's notes).
#[derive(Debug)]
pub struct CommitWatch {
    commits: watch::Receiver<News>,
}

impl CommitWatch {
    /// The host's next announcement since the last call: only the latest when several
    /// arrived meanwhile, `None` when the database must be read. Pending forever once
    /// the store closed.
    pub async fn changed(&mut self) -> Option<Arc<Announced>> {
        if self.commits.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        self.commits.borrow_and_update().clone()
    }
}

impl CommitFeed {
    pub(in crate::store) fn new(url: Secret) -> CommitFeed {
        CommitFeed {
            shared: Arc::new(Shared {
                url,
                state: Mutex::default(),
                closed: Notify::new(),
            }),
        }
    }

    /// Follows `hostname`'s commits, starting the listener if it is not running.
    pub(in crate::store) fn subscribe(&self, hostname: &str) -> CommitWatch {
        let mut state = self.shared.lock();
        // Hosts nobody watches any more are forgotten here, the one place that adds.
        state.hosts.retain(|_, tx| tx.receiver_count() > 0);
        let commits = state
            .hosts
            .entry(hostname.to_owned())
            .or_insert_with(|| watch::channel(None).0)
            .subscribe();
        if !state.listening && !state.closed {
            state.listening = true;
            tokio::spawn(listen(Arc::clone(&self.shared)));
        }
        CommitWatch { commits }
    }

    /// Notes that this process committed `hostname`'s events up to `last`; returns the
    /// id it had noted before, the event the batch follows.
    pub(in crate::store) fn committed(&self, hostname: &str, last: i64) -> Option<i64> {
        self.shared
            .lock()
            .last_committed
            .insert(hostname.to_owned(), last)
    }

    /// Forgets `hostname`'s last committed id: its next batch follows an unknown one.
    pub(in crate::store) fn forget(&self, hostname: &str) {
        self.shared.lock().last_committed.remove(hostname);
    }

    /// Stops the listener (its session closes with it).
    pub(in crate::store) fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.closed.notify_waiters();
        self.shared.closed.notify_one();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every host's commits arrive here; only a watched host's batch is decoded.
    fn announce(&self, payload: &str) {
        let Some(hostname) = announcing_host(payload) else {
            return;
        };
        let Some(tx) = self.lock().hosts.get(&hostname).cloned() else {
            return;
        };
        if let Some((_, announced)) = decode(payload) {
            tx.send_replace(Some(Arc::new(announced)));
        }
    }

    /// After a (re)connection: whatever was committed while nobody listened is read.
    fn wake_all(&self) {
        for tx in self.lock().hosts.values() {
            tx.send_replace(None);
        }
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

/// The listener: connects, listens, wakes watchers, and connects again when its
/// session is lost, until the store closes.
async fn listen(shared: Arc<Shared>) {
    while !shared.is_closed() {
        let session = tokio::select! {
            session = connect(&shared.url) => session,
            () = shared.closed.notified() => return,
        };
        let mut listener = match session {
            Ok(listener) => listener,
            Err(e) => {
                // sqlx's errors never print the URL, which may hold a password.
                tracing::warn!(error = %e, "cannot listen for other hosts' lifecycle events; watches of other hosts read on their interval meanwhile");
                tokio::select! {
                    () = tokio::time::sleep(RECONNECT) => continue,
                    () = shared.closed.notified() => return,
                }
            }
        };
        shared.wake_all();
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                () = shared.closed.notified() => return,
            };
            match received {
                Ok(Some(notice)) => shared.announce(notice.payload()),
                // The session was lost and sqlx opened another: notices sent in
                // between are gone.
                Ok(None) => shared.wake_all(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the session listening for other hosts' lifecycle events; connecting again");
                    break;
                }
            }
        }
    }
}

async fn connect(url: &Secret) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url.expose()).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventType, LifecycleEvent};

    fn feed() -> CommitFeed {
        CommitFeed::new(Secret::new("postgres://127.0.0.1:1/none".into()))
    }

    fn started(id: i64) -> LifecycleEvent {
        LifecycleEvent {
            id,
            hostname: "hv-a".into(),
            domain_uuid: "00000000-0000-0000-0000-000000000001".into(),
            domain_name: "vm".into(),
            kind: EventType::Started,
            detail: "booted".into(),
            synthetic: false,
            occurred_at_micros: 1,
        }
    }

    #[tokio::test]
    async fn an_announcement_reaches_the_watchers_of_that_host_only() {
        let feed = feed();
        let mut a = feed.subscribe("hv-a");
        let b = feed.subscribe("hv-b");
        feed.shared
            .announce(&super::super::encode("hv-a", Some(6), &[started(7)]));
        let news = tokio::time::timeout(Duration::from_secs(5), a.changed())
            .await
            .expect("hv-a's watcher woken")
            .expect("an announcement");
        assert_eq!(news.following(Some(6)), Some(&[started(7)][..]));
        assert!(
            !b.commits.has_changed().expect("feed open"),
            "hv-b's watcher stays asleep"
        );
        feed.close();
    }

    #[tokio::test]
    async fn a_reconnection_tells_every_watcher_to_read() {
        let feed = feed();
        let mut a = feed.subscribe("hv-a");
        let mut b = feed.subscribe("hv-b");
        feed.shared.wake_all();
        for watcher in [&mut a, &mut b] {
            let news = tokio::time::timeout(Duration::from_secs(5), watcher.changed())
                .await
                .expect("woken");
            assert_eq!(news, None, "read the database");
        }
        feed.close();
    }

    #[test]
    fn the_last_committed_id_is_what_the_next_batch_follows_until_forgotten() {
        let feed = feed();
        assert_eq!(feed.committed("hv-a", 7), None);
        assert_eq!(feed.committed("hv-a", 9), Some(7));
        assert_eq!(feed.committed("hv-b", 3), None);
        feed.forget("hv-a");
        assert_eq!(feed.committed("hv-a", 12), None, "after a failed write");
    }

    #[tokio::test]
    async fn hosts_nobody_watches_are_forgotten() {
        let feed = feed();
        drop(feed.subscribe("hv-gone"));
        let _kept = feed.subscribe("hv-kept");
        let hosts: Vec<String> = feed.shared.lock().hosts.keys().cloned().collect();
        assert_eq!(hosts, ["hv-kept"]);
        feed.close();
    }
}
