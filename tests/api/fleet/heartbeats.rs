//! Heartbeats: each agent's row advances while it runs, others read it, and a host
//! whose agent stopped is reported down once its heartbeat is older than
//! `host.down_after_s`.

use tonic::Code;

use super::shared::{Fleet, host_of, host_until};
use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

fn seconds(host: &virtplane::grpc::pb::Host) -> i64 {
    host.heartbeat_time.as_ref().map_or(0, |t| t.seconds)
}

#[tokio::test]
async fn heartbeats_advance_and_an_agent_that_stopped_is_reported_down_by_the_others() {
    // Arrange: two agents on one PostgreSQL, heartbeats every second, down after 3 s.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let first = fleet.spawn(&a, 3, "rack = \"r1\"").await;
    let second = fleet.spawn(&b, 3, "").await;

    // Act / Assert: the first agent's heartbeat advances, as itself and as the second sees it.
    let start = host_of(&first, "").await.expect("GetHost");
    assert!(start.up, "{start:?}");
    assert_eq!(start.agent_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(start.labels.get("rack").map(String::as_str), Some("r1"));
    let later = host_until(&first, "", "the heartbeat to advance", |h| {
        seconds(h) > seconds(&start)
    })
    .await;
    assert!(later.up);
    let seen = host_until(&second, &a, "the other agent's connected heartbeat", |h| {
        h.connected && !h.libvirt_version.is_empty()
    })
    .await;
    assert_eq!(seen.hostname, a);
    assert!(seen.up && seen.enabled, "{seen:?}");
    assert_eq!(seen.hypervisor_type, "TEST");
    assert_eq!(
        seen.libvirt_uri, "",
        "another host's URI is its own business"
    );
    assert_eq!(seen.labels.get("rack").map(String::as_str), Some("r1"));

    // Act: the first agent stops; its heartbeat ages.
    first.stop().await;

    // Assert: the second reports it down, still enabled (down is not disabled).
    let down = host_until(&second, &a, "the stopped agent reported down", |h| !h.up).await;
    assert!(down.enabled, "{down:?}");
    assert!(seconds(&down) >= seconds(&later));
    let own = host_of(&second, &b).await.expect("own host by name");
    assert!(own.up && own.reconciliations > 0, "{own:?}");

    second.stop().await;
    fleet.drop_database().await;
}

#[tokio::test]
async fn get_host_of_an_unknown_host_is_not_found_and_a_malformed_hostname_is_refused() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let missing = host_of(&app, "no-such-host").await.expect_err("no row");
    let overlong = host_of(&app, &"x".repeat(300)).await.expect_err("too long");

    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert!(missing.message().contains("no-such-host"), "{missing:?}");
    assert_eq!(overlong.code(), Code::InvalidArgument, "{overlong:?}");
    assert!(overlong.message().contains("`hostname`"), "{overlong:?}");
    app.stop().await;
}
