//! `WatchHosts`: the fleet's current state first, then each host whose enabled,
//! up/down or connected state changed, whichever agent changed it.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Streaming;
use virtplane::grpc::pb;

use super::shared::Fleet;
use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

/// The next change of `hostname` that satisfies `wanted`, skipping others.
async fn next_change(
    stream: &mut Streaming<pb::HostChange>,
    hostname: &str,
    what: &str,
    wanted: impl Fn(&pb::HostChange) -> bool,
) -> pb::HostChange {
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(change) = stream.next().await {
            let change = change.expect("the watch goes on");
            let host = change.host.as_ref().expect("a host");
            if host.hostname == hostname && wanted(&change) {
                return change;
            }
        }
        panic!("the watch ended before {what}");
    })
    .await;
    found.unwrap_or_else(|_| panic!("no change after 30 s: {what}"))
}

fn host(change: &pb::HostChange) -> &pb::Host {
    change.host.as_ref().expect("a host")
}

#[tokio::test]
async fn watch_hosts_sends_the_fleet_then_sees_another_host_disabled_enabled_and_down() {
    // Arrange: two agents on one PostgreSQL; the second watches.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let mut first = fleet.spawn(&a, 3, "").await;
    let second = fleet.spawn(&b, 3, "").await;
    let mut watch = second
        .host
        .clone()
        .watch_hosts(pb::WatchHostsRequest::default())
        .await
        .expect("WatchHosts")
        .into_inner();

    // Assert: both hosts' current state comes first, marked initial.
    for hostname in [&a, &b] {
        let initial = next_change(&mut watch, hostname, "the initial state", |_| true).await;
        assert!(initial.initial, "{initial:?}");
        assert!(host(&initial).enabled);
    }

    // Act / Assert: the first agent is disabled by its operator, then enabled.
    first
        .host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: false,
            reason: "maintenance".into(),
            ..pb::SetHostEnabledRequest::default()
        })
        .await
        .expect("disable");
    let disabled = next_change(&mut watch, &a, "the disable", |c| !host(c).enabled).await;
    assert!(!disabled.initial);
    assert_eq!(host(&disabled).disabled_reason, "maintenance");
    first
        .host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: true,
            ..pb::SetHostEnabledRequest::default()
        })
        .await
        .expect("enable");
    next_change(&mut watch, &a, "the enable", |c| host(c).enabled).await;

    // Act / Assert: the first agent stops; its heartbeat ages past down_after.
    first.stop().await;
    let down = next_change(&mut watch, &a, "the host going down", |c| !host(c).up).await;
    assert!(host(&down).enabled && !down.initial, "{down:?}");

    second.stop().await;
    fleet.drop_database().await;
}

#[tokio::test]
async fn with_sqlite_watch_hosts_starts_with_the_one_local_host() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let mut watch = app
        .host
        .clone()
        .watch_hosts(pb::WatchHostsRequest::default())
        .await
        .expect("WatchHosts")
        .into_inner();
    let first = next_change(&mut watch, &app.hostname, "the local host", |_| true).await;

    assert!(first.initial && host(&first).up, "{first:?}");
    app.stop().await;
}
