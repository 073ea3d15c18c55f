//! `WatchLifecycleEvents`: stored events after `after_id`, then live ones.
//!
//! A watch with `after_id` first catches up from the database page by page, then
//! subscribes to the live feed, reads the database once more for whatever was stored
//! between its last page and the subscription, and from then on forwards live events
//! it has not sent yet: no gap, no duplicate. An `after_id` inside the pruned part of
//! the journal is answered with OUT_OF_RANGE.
//!
//! Another host's events never reach this agent's live feed: its watch follows that
//! host's announced commits instead (see `remote`).

use std::{pin::Pin, sync::Arc, time::Duration};

use tokio::sync::{broadcast, mpsc};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::Status;

use super::{
    cursor::{Resume, domain_key, parse_domain, pruned},
    fleet::parse_hostname,
};
use crate::{
    events::EventHub,
    grpc::pb,
    grpc::status,
    model::InvalidArgument,
    model::{DomainRef, LifecycleEvent},
    store::{EventQuery, Store},
};

mod remote;

const CATCH_UP_PAGE: usize = 500;
/// Messages buffered per watcher between its task and its HTTP/2 stream.
const STREAM_BUFFER: usize = 256;

/// The stream type of `WatchLifecycleEvents`.
pub(crate) type EventStream =
    Pin<Box<dyn Stream<Item = Result<pb::LifecycleEvent, Status>> + Send>>;

/// Where a watch's events come from: this host's live feed, or the database.
pub(super) struct Source {
    pub(super) store: Store,
    pub(super) this_host: String,
    pub(super) hub: EventHub,
    /// How often another host's events are read.
    pub(super) poll_interval: Duration,
}

/// Starts a watch: a task feeding the returned stream.
pub(super) fn watch(
    source: Source,
    request: pb::WatchLifecycleEventsRequest,
) -> Result<EventStream, Status> {
    let pb::WatchLifecycleEventsRequest {
        after_id,
        domain,
        hostname,
    } = request;
    if after_id.is_some_and(|id| id < 0) {
        return Err(Status::from(InvalidArgument::new(
            "after_id",
            "`after_id` must not be negative",
        )));
    }
    let domain = parse_domain(&domain)?;
    let other_host = parse_hostname("hostname", &hostname)?.filter(|h| *h != source.this_host);
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let Source {
        store,
        this_host,
        hub,
        poll_interval,
    } = source;
    let watcher = Watcher {
        store,
        poll: other_host.is_some().then_some(poll_interval),
        hostname: other_host.unwrap_or(this_host),
        hub,
        domain,
        tx,
    };
    tokio::spawn(watcher.run(after_id));
    Ok(Box::pin(ReceiverStream::new(rx)))
}

struct Watcher {
    store: Store,
    hostname: String,
    /// Set for another host: read the database this often instead of the live feed.
    poll: Option<Duration>,
    hub: EventHub,
    domain: Option<DomainRef>,
    tx: mpsc::Sender<Result<pb::LifecycleEvent, Status>>,
}

impl Watcher {
    async fn run(self, after_id: Option<i64>) {
        if let Some(interval) = self.poll {
            self.follow_remote(after_id, interval).await;
            return;
        }
        let mut last_sent = after_id;
        let live = match after_id {
            None => {
                // Where to resume should this watcher fall behind before it is sent
                // anything: read before subscribing, so nothing the hint skips could
                // have been missed.
                match self.newest_stored_id().await {
                    Ok(newest) => last_sent = Some(newest),
                    Err(status) => {
                        let _ = self.tx.send(Err(status)).await;
                        return;
                    }
                }
                self.hub.subscribe()
            }
            Some(_) => {
                // Catch up without holding a subscription: a long backlog would overrun it.
                if self.catch_up(&mut last_sent).await.is_err() {
                    return;
                }
                let live = self.hub.subscribe();
                if self.catch_up(&mut last_sent).await.is_err() {
                    return;
                }
                live
            }
        };
        self.forward_live(live, last_sent).await;
    }

    /// The id of the host's newest stored event, 0 when there is none.
    async fn newest_stored_id(&self) -> Result<i64, Status> {
        let newest = self
            .store
            .lifecycle_events(
                &self.hostname,
                &EventQuery {
                    newest_first: true,
                    limit: 1,
                    ..EventQuery::default()
                },
            )
            .await?;
        Ok(newest.first().map_or(0, |e| e.id))
    }

    /// Sends stored events after `last_sent` until none are left.
    async fn catch_up(&self, last_sent: &mut Option<i64>) -> Result<(), ()> {
        loop {
            let page = self
                .store
                .lifecycle_events(
                    &self.hostname,
                    &EventQuery {
                        domain: self.domain.as_ref().map(domain_key),
                        cursor: *last_sent,
                        newest_first: false,
                        limit: CATCH_UP_PAGE,
                        ..EventQuery::default()
                    },
                )
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    let _ = self.tx.send(Err(Status::from(e))).await;
                    return Err(());
                }
            };
            if let Some(cursor) = *last_sent {
                let status = match self.store.events_pruned_through(&self.hostname).await {
                    Ok(watermark) if cursor < watermark => Some(
                        pruned(
                            &self.store,
                            &self.hostname,
                            watermark,
                            Resume::AfterId(cursor),
                        )
                        .await,
                    ),
                    Ok(_) => None,
                    Err(e) => Some(Status::from(e)),
                };
                if let Some(status) = status {
                    let _ = self.tx.send(Err(status)).await;
                    return Err(());
                }
            }
            let full = page.len() == CATCH_UP_PAGE;
            for event in page {
                *last_sent = Some(event.id);
                self.send(&event).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Forwards live events after `handled`: the id up to which every event was
    /// sent or skipped by the filter, which is where a lagging watcher resumes.
    async fn forward_live(
        &self,
        mut live: broadcast::Receiver<Arc<LifecycleEvent>>,
        mut handled: Option<i64>,
    ) {
        loop {
            let event = tokio::select! {
                received = live.recv() => received,
                () = self.tx.closed() => return,
            };
            match event {
                Ok(event) => {
                    if handled.is_some_and(|id| event.id <= id) {
                        continue;
                    }
                    handled = Some(event.id);
                    if self.domain.as_ref().is_some_and(|d| !event.concerns(d)) {
                        continue;
                    }
                    if self.send(&event).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let resume = handled.unwrap_or_default();
                    let _ = self
                        .tx
                        .send(Err(status::watcher_lagged(
                            format!(
                                "this watcher fell {missed} events behind and was stopped so it does not hold up others; \
                                 resume with after_id = {resume}"
                            ),
                            resume,
                        )))
                        .await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    async fn send(&self, event: &LifecycleEvent) -> Result<(), ()> {
        self.tx
            .send(Ok(pb::LifecycleEvent::from(event.clone())))
            .await
            .map_err(|_| ())
    }
}
