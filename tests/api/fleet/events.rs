//! Lifecycle events of another host of the shared database, read by `hostname`.

use std::time::Duration;

use tonic::Code;
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

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("`hostname`"), "{refused:?}");
    app.stop().await;
}
