//! Lifecycle events of another host of the shared database, read by `hostname`, and
//! of every host with `all_hosts`.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::{Code, Streaming};
use virtplane::grpc::pb;

use super::shared::Fleet;
use crate::support::{TEST_DRIVER, TestApp, TestOptions, eventually, unique_name};

fn of_host(hostname: &str, domain: &str) -> pb::ListLifecycleEventsRequest {
    pb::ListLifecycleEventsRequest {
        hostname: hostname.to_owned(),
        domain: domain.to_owned(),
        order: pb::EventOrder::OldestFirst.into(),
        ..pb::ListLifecycleEventsRequest::default()
    }
}

#[tokio::test]
async fn lifecycle_events_of_another_host_are_listed_by_its_hostname() {
    // Arrange: two agents on one PostgreSQL.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let mut first = fleet.spawn(&a, 60, "").await;
    let second = fleet.spawn(&b, 60, "").await;
    let domain = unique_name("fleet-vm");

    // Act: a domain is defined through the first agent.
    first.define(&domain).await;

    // Assert: the second lists it among the first host's events, by hostname.
    let client = second.host.clone();
    let (a_ref, domain_ref) = (&a, &domain);
    eventually(Duration::from_secs(30), "the other host's event", || {
        let mut client = client.clone();
        async move {
            client
                .list_lifecycle_events(of_host(a_ref, domain_ref))
                .await
                .is_ok_and(|r| {
                    r.get_ref().events.iter().any(|e| {
                        e.hostname == *a_ref
                            && e.r#type == i32::from(pb::LifecycleEventType::Defined)
                    })
                })
        }
    })
    .await;
    let events = client
        .clone()
        .list_lifecycle_events(of_host(&a, &domain))
        .await
        .expect("list")
        .into_inner()
        .events;
    assert!(events.iter().all(|e| e.hostname == a), "{events:?}");
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "{events:?}");

    // Act / Assert: every host's events together hold the first host's, by id.
    let fleet_wide = client
        .clone()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            all_hosts: true,
            ..of_host("", &domain)
        })
        .await
        .expect("all hosts")
        .into_inner()
        .events;
    assert!(
        fleet_wide.windows(2).all(|w| w[0].id < w[1].id),
        "{fleet_wide:?}"
    );
    let ids: Vec<i64> = fleet_wide.iter().map(|e| e.id).collect();
    assert!(events.iter().all(|e| ids.contains(&e.id)), "{fleet_wide:?}");

    first.stop().await;
    second.stop().await;
    fleet.drop_database().await;
}

/// The next `count` events of `stream`.
pub(super) async fn next_events(
    stream: &mut Streaming<pb::LifecycleEvent>,
    count: usize,
) -> Vec<pb::LifecycleEvent> {
    let taken = tokio::time::timeout(Duration::from_secs(30), async {
        let mut events = Vec::new();
        while events.len() < count {
            let event = stream
                .next()
                .await
                .expect("the watch goes on")
                .expect("an event");
            events.push(event);
        }
        events
    })
    .await;
    taken.unwrap_or_else(|_| panic!("fewer than {count} events after 30 s"))
}

pub(super) async fn watch(
    app: &TestApp,
    hostname: &str,
    after_id: Option<i64>,
) -> Streaming<pb::LifecycleEvent> {
    app.host
        .clone()
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            hostname: hostname.to_owned(),
            after_id,
            ..pb::WatchLifecycleEventsRequest::default()
        })
        .await
        .expect("WatchLifecycleEvents")
        .into_inner()
}

#[tokio::test]
async fn another_hosts_events_are_watched_by_hostname_and_resume_exactly_after_an_id() {
    // Arrange: two agents on one PostgreSQL; the second watches the first's events.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let mut first = fleet.spawn(&a, 60, "").await;
    let second = fleet.spawn(&b, 60, "").await;
    let mut live = watch(&second, &a, None).await;

    // Act: the first agent defines and starts a domain.
    let domain = unique_name("fleet-vm");
    first.define(&domain).await;
    first.start(&domain).await;

    // Assert: the watcher sees the first host's events, in id order.
    let seen = next_events(&mut live, 2).await;
    assert!(seen.iter().all(|e| e.hostname == a), "{seen:?}");
    assert!(seen[0].id < seen[1].id, "{seen:?}");

    // Act / Assert: a watch resuming after the first event replays the second first.
    let mut resumed = watch(&second, &a, Some(seen[0].id)).await;
    let replayed = next_events(&mut resumed, 1).await;
    assert_eq!(replayed[0].id, seen[1].id, "{replayed:?}");

    // Act / Assert: a host with no row is NOT_FOUND.
    let mut missing = watch(&second, "no-such-host", None).await;
    let status = missing
        .next()
        .await
        .expect("an answer")
        .expect_err("no row");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    first.stop().await;
    second.stop().await;
    fleet.drop_database().await;
}

#[tokio::test]
async fn a_malformed_hostname_for_lifecycle_events_is_refused_naming_the_field() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let refused = app
        .host
        .clone()
        .list_lifecycle_events(of_host(&"h".repeat(300), ""))
        .await
        .expect_err("too long");

    let both = app
        .host
        .clone()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            all_hosts: true,
            ..of_host("other", "")
        })
        .await
        .expect_err("one host or all");

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("`hostname`"), "{refused:?}");
    assert_eq!(both.code(), Code::InvalidArgument);
    assert!(both.message().contains("`all_hosts`"), "{both:?}");
    app.stop().await;
}
