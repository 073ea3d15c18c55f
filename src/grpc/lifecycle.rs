//! `ListLifecycleEvents` and `WatchLifecycleEvents` (on HostService).
//!
//! A watch with `after_id` first catches up from the database page by page, then
//! subscribes to the live feed, reads the database once more for whatever was stored
//! between its last page and the subscription, and from then on forwards live events
//! it has not sent yet: no gap, no duplicate.
//!
//! A cursor (`after_id`, a page token) that resumes inside the pruned part of the
//! journal is answered with OUT_OF_RANGE rather than with the events after the gap.
//! The watermark is read after the page it guards: it only rises, and rises in the
//! transaction that deletes, so a page read before it was still whole.

use std::{pin::Pin, sync::Arc};

use tokio::sync::{broadcast, mpsc};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::Status;

use super::{convert, paging::Paging, pb};
use crate::{
    events::EventHub,
    model::{DomainRef, EventType, LifecycleEvent},
    store::{EventQuery, Store},
};

const CATCH_UP_PAGE: usize = 500;
/// Messages buffered per watcher between its task and its HTTP/2 stream.
const STREAM_BUFFER: usize = 256;

/// The stream type of `WatchLifecycleEvents`.
pub(crate) type EventStream =
    Pin<Box<dyn Stream<Item = Result<pb::LifecycleEvent, Status>> + Send>>;

/// Serves one page of stored events.
pub(crate) async fn list(
    store: &Store,
    hostname: &str,
    request: pb::ListLifecycleEventsRequest,
) -> Result<pb::ListLifecycleEventsResponse, Status> {
    let pb::ListLifecycleEventsRequest {
        page_size,
        page_token,
        domain,
        types,
        start_time,
        end_time,
        order,
    } = request;
    let newest_first = match pb::EventOrder::try_from(order) {
        Ok(pb::EventOrder::Unspecified | pb::EventOrder::NewestFirst) => true,
        Ok(pb::EventOrder::OldestFirst) => false,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "`order` {order} is not an EventOrder value"
            )));
        }
    };
    let domain = parse_domain(&domain)?;
    let types = types
        .into_iter()
        .map(convert::event_type_from_pb)
        .collect::<Result<Vec<EventType>, Status>>()?;
    let start_micros = start_time
        .map(|t| convert::micros_from_timestamp("start_time", &t))
        .transpose()?;
    let end_micros = end_time
        .map(|t| convert::micros_from_timestamp("end_time", &t))
        .transpose()?;
    if let (Some(start), Some(end)) = (start_micros, end_micros)
        && start >= end
    {
        return Err(Status::invalid_argument(
            "`start_time` must be before `end_time`",
        ));
    }
    let fingerprint =
        format!("{newest_first}|{domain:?}|{types:?}|{start_micros:?}|{end_micros:?}");
    let paging = Paging::parse(page_size, &page_token, fingerprint)?;
    let cursor = paging.after_id()?;

    let mut events = store
        .lifecycle_events(
            hostname,
            &EventQuery {
                domain: domain.map(|d| domain_key(&d)),
                types,
                start_micros,
                end_micros,
                newest_first,
                cursor,
                limit: paging.fetch(),
            },
        )
        .await?;
    if let Some(cursor) = cursor {
        // Oldest first, the token expects every id above the cursor; newest first,
        // every id below it, which are gone once the cursor itself was pruned.
        let watermark = store.events_pruned_through(hostname).await?;
        let stale = if newest_first {
            cursor <= watermark
        } else {
            cursor < watermark
        };
        if stale {
            return Err(pruned(store, hostname, watermark, Resume::PageToken(cursor)).await);
        }
    }
    let next_page_token = paging.finish(&mut events, |e| e.id.to_string());
    Ok(pb::ListLifecycleEventsResponse {
        events: events.into_iter().map(pb::LifecycleEvent::from).collect(),
        next_page_token,
    })
}

/// Starts a watch: a task feeding the returned stream.
pub(crate) fn watch(
    store: Store,
    hostname: String,
    hub: EventHub,
    request: pb::WatchLifecycleEventsRequest,
) -> Result<EventStream, Status> {
    let pb::WatchLifecycleEventsRequest { after_id, domain } = request;
    if after_id.is_some_and(|id| id < 0) {
        return Err(Status::invalid_argument("`after_id` must not be negative"));
    }
    let domain = parse_domain(&domain)?;
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let watcher = Watcher {
        store,
        hostname,
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
    hub: EventHub,
    domain: Option<DomainRef>,
    tx: mpsc::Sender<Result<pb::LifecycleEvent, Status>>,
}

impl Watcher {
    async fn run(self, after_id: Option<i64>) {
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
                        .send(Err(Status::resource_exhausted(format!(
                            "this watcher fell {missed} events behind and was stopped so it does not hold up others; \
                             resume with after_id = {resume}"
                        ))))
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

/// Where a client asked to resume from.
#[derive(Debug, Clone, Copy)]
enum Resume {
    AfterId(i64),
    PageToken(i64),
}

/// OUT_OF_RANGE for a cursor into the pruned journal, naming the oldest event kept
/// and how to recover: the client's view is stale, only a resync makes it whole.
async fn pruned(store: &Store, hostname: &str, watermark: i64, resume: Resume) -> Status {
    let oldest = match store.oldest_event_id(hostname).await {
        Ok(Some(id)) => format!("the oldest available event is id {id}"),
        Ok(None) => "no event is kept now".to_owned(),
        Err(e) => return Status::from(e),
    };
    let (asked, again) = match resume {
        Resume::AfterId(id) => (
            format!("`after_id` {id}"),
            format!("then watch with an `after_id` of at least {watermark}, or none"),
        ),
        Resume::PageToken(id) => (
            format!("`page_token` (after id {id})"),
            "then list again without `page_token`".to_owned(),
        ),
    };
    Status::out_of_range(format!(
        "{asked} points before the oldest kept event: events up to id {watermark} were pruned \
         (events.retention_days) and {oldest}; resync this host's domains with ListDomains, {again}"
    ))
}

fn parse_domain(domain: &str) -> Result<Option<DomainRef>, Status> {
    if domain.is_empty() {
        Ok(None)
    } else {
        Ok(Some(DomainRef::parse(domain)?))
    }
}

fn domain_key(domain: &DomainRef) -> String {
    match domain {
        DomainRef::Uuid(s) | DomainRef::Name(s) => s.clone(),
    }
}
