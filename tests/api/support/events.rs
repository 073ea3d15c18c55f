//! Lifecycle events as tests read them: listed, watched, taken from a stream, and
//! compared as (domain, type, detail, synthetic).

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Streaming;
use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use super::{TestApp, eventually};

/// What a test compares of an event.
pub type Seen = (String, Type, String, bool);

pub fn seen(event: &pb::LifecycleEvent) -> Seen {
    (
        event.domain_name.clone(),
        Type::try_from(event.r#type).expect("known type"),
        event.detail.clone(),
        event.synthetic,
    )
}

/// An event libvirt reported.
pub fn real(name: &str, kind: Type, detail: &str) -> Seen {
    (name.to_owned(), kind, detail.to_owned(), false)
}

/// An event a reconciliation inferred.
pub fn synthetic(name: &str, kind: Type) -> Seen {
    (name.to_owned(), kind, "unknown".to_owned(), true)
}

pub fn sorted(events: &[pb::LifecycleEvent]) -> Vec<Seen> {
    let mut all: Vec<Seen> = events.iter().map(seen).collect();
    all.sort();
    all
}

pub fn kinds(events: &[pb::LifecycleEvent]) -> Vec<Type> {
    events
        .iter()
        .map(|e| Type::try_from(e.r#type).expect("known type"))
        .collect()
}

/// The newest event's id, once the start-up reconciliation has been recorded.
pub async fn last_event_id(app: &mut TestApp) -> i64 {
    app.settled().await;
    app.host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .events
        .first()
        .map_or(0, |e| e.id)
}

/// A watch from after `after_id` (`None`: only new events), on `domain` ("" for all).
pub async fn watch(
    app: &mut TestApp,
    after_id: Option<i64>,
    domain: &str,
) -> Streaming<pb::LifecycleEvent> {
    app.host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id,
            domain: domain.into(),
            hostname: String::new(),
        })
        .await
        .expect("watch")
        .into_inner()
}

/// Reads `count` events from a watch, failing after 20 s.
pub async fn take(
    stream: &mut Streaming<pb::LifecycleEvent>,
    count: usize,
) -> Vec<pb::LifecycleEvent> {
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {count} events arrived: {events:?}",
                    events.len()
                )
            });
        events.push(next.expect("stream open").expect("event"));
    }
    events
}

/// Every stored event after `after_id` on `domain` ("" for all), oldest first, read
/// page by page.
pub async fn list_after(app: &mut TestApp, after_id: i64, domain: &str) -> Vec<pb::LifecycleEvent> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let reply = app
            .host
            .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                page_size: 50,
                page_token: page_token.clone(),
                domain: domain.into(),
                order: pb::EventOrder::OldestFirst.into(),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        all.extend(reply.events.into_iter().filter(|e| e.id > after_id));
        if reply.next_page_token.is_empty() {
            return all;
        }
        page_token = reply.next_page_token;
    }
}

/// Every stored event (up to 1000), oldest first.
pub async fn list_all(app: &TestApp) -> Vec<pb::LifecycleEvent> {
    events_of(app, "").await
}

/// Every stored event of the domain `name` ("" for all, up to 1000), oldest first.
pub async fn events_of(app: &TestApp, name: &str) -> Vec<pb::LifecycleEvent> {
    app.host
        .clone()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            domain: name.into(),
            order: pb::EventOrder::OldestFirst.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .events
}

/// Waits up to `timeout` until an event of `domain` of `kind` is stored.
pub async fn wait_for_kind(app: &TestApp, domain: &str, kind: Type, timeout: Duration) {
    let client = app.host.clone();
    let what = format!("a {kind:?} event of {domain}");
    eventually(timeout, &what, || {
        let (mut client, domain) = (client.clone(), domain.to_owned());
        async move {
            client
                .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                    domain,
                    types: vec![kind.into()],
                    ..Default::default()
                })
                .await
                .is_ok_and(|r| !r.into_inner().events.is_empty())
        }
    })
    .await;
}
