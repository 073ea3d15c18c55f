//! A watch of another host's events, which never reach this agent's live feed.
//!
//! Each recorder announces its commits through PostgreSQL (LISTEN/NOTIFY) with the
//! batch itself when it fits and the id of the host's event before it. A batch that
//! follows the last event this watch handled is sent as it is; anything else (a batch
//! too large to carry, a missed announcement, the listener reconnecting) makes the
//! watch read the database after its last id. It also reads when
//! `host.watch_interval_ms` passed without news, for an announcement lost with no
//! other after it.
//!
//! That is as exact as the live feed: one recorder writes each host's events and
//! commits them in id order, so "after the last id handled" never skips one of that
//! host's events, and a batch is only taken when it starts right after that id.

use std::{sync::Arc, time::Duration};

use tonic::Status;

use super::Watcher;
use crate::{
    grpc::status,
    store::{Announced, CommitWatch, StoreError},
};

impl Watcher {
    /// Another host's events: stored ones after `after_id` (or from now), then each
    /// batch as it is announced, until the client goes.
    pub(super) async fn follow_remote(&self, after_id: Option<i64>, interval: Duration) {
        if let Err(e) = self.store.host(&self.hostname).await {
            let status = match e {
                StoreError::HostMissing(_) => status::host_not_found(&self.hostname),
                e => Status::from(e),
            };
            let _ = self.tx.send(Err(status)).await;
            return;
        }
        // Following commits before the first read: one committed in between is read.
        let mut commits = self.store.commits_of(&self.hostname);
        let mut handled = after_id;
        if handled.is_none() {
            match self.newest_stored_id().await {
                Ok(newest) => handled = Some(newest),
                Err(status) => {
                    let _ = self.tx.send(Err(status)).await;
                    return;
                }
            }
        }
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let news = tokio::select! {
                _ = ticks.tick() => None,
                news = announced(commits.as_mut()) => news,
                () = self.tx.closed() => return,
            };
            // Either way this watch is now up to date: the timer waits a full interval.
            ticks.reset();
            if let Some(batch) = news.as_deref().and_then(|n| n.following(handled)) {
                for event in batch {
                    handled = Some(event.id);
                    if self.domain.as_ref().is_some_and(|d| !event.concerns(d)) {
                        continue;
                    }
                    if self.send(event).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            if self.catch_up(&mut handled).await.is_err() {
                return;
            }
        }
    }
}

/// The host's next announcement (`None`: read the database); never without a feed
/// (SQLite holds one host).
async fn announced(commits: Option<&mut CommitWatch>) -> Option<Arc<Announced>> {
    match commits {
        Some(commits) => commits.changed().await,
        None => std::future::pending().await,
    }
}
