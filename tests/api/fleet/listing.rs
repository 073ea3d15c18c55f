//! `ListHosts`: every host of the shared database in hostname order, filtered by
//! enabled state, liveness and labels, in pages; with SQLite, the one local host.

use tonic::Code;
use virtplane::grpc::pb;

use super::shared::{Fleet, Row, now_ms};
use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

async fn list(app: &TestApp, request: pb::ListHostsRequest) -> Result<Vec<String>, tonic::Status> {
    let reply = app.host.clone().list_hosts(request).await?.into_inner();
    Ok(reply.hosts.into_iter().map(|h| h.hostname).collect())
}

#[tokio::test]
async fn list_hosts_filters_by_enabled_state_liveness_and_labels_and_pages_by_hostname() {
    // Arrange: one agent and three rows other agents wrote (up, disabled, never beat).
    let fleet = Fleet::create(true).await;
    let prefix = unique_name("fleet");
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|s| format!("{prefix}-{s}"));
    let app = fleet.spawn(&a, 60, "rack = \"r1\", zone = \"a\"").await;
    let now = now_ms();
    for (hostname, enabled, heartbeat_ms, labels) in [
        (&b, true, Some(now), r#"{"rack":"r2"}"#),
        (&c, false, Some(now), r#"{"rack":"r1"}"#),
        (&d, true, None, "{}"),
    ] {
        let row = Row {
            hostname,
            enabled,
            heartbeat_ms,
            labels,
        };
        fleet.insert(row).await;
    }
    let ask = |enabled, liveness: pb::HostLiveness, selector: &str| pb::ListHostsRequest {
        enabled,
        liveness: liveness.into(),
        label_selector: selector.to_owned(),
        ..pb::ListHostsRequest::default()
    };
    use pb::HostLiveness::{Down, Unspecified, Up};

    // Act / Assert: each filter alone, and two together.
    let all = list(&app, ask(None, Unspecified, "")).await.expect("all");
    assert_eq!(all, [&a, &b, &c, &d].map(String::as_str));
    let disabled = list(&app, ask(Some(false), Unspecified, "")).await;
    assert_eq!(disabled.expect("disabled"), [&c].map(String::as_str));
    let down = list(&app, ask(None, Down, "")).await.expect("down");
    assert_eq!(down, [&d].map(String::as_str));
    let up = list(&app, ask(None, Up, "")).await.expect("up");
    assert_eq!(up, [&a, &b, &c].map(String::as_str));
    let r1 = list(&app, ask(None, Unspecified, "rack=r1")).await;
    assert_eq!(r1.expect("rack r1"), [&a, &c].map(String::as_str));
    let both = list(&app, ask(Some(true), Up, "rack in (r1,r2),zone!=a")).await;
    assert_eq!(both.expect("combined"), [&b].map(String::as_str));

    // Act / Assert: pages of three, then the rest; a token under other filters is refused.
    let mut client = app.host.clone();
    let first = client
        .list_hosts(pb::ListHostsRequest {
            page_size: 3,
            ..pb::ListHostsRequest::default()
        })
        .await
        .expect("first page")
        .into_inner();
    let names: Vec<_> = first.hosts.iter().map(|h| h.hostname.clone()).collect();
    assert_eq!(names, [&a, &b, &c].map(String::as_str));
    assert!(!first.next_page_token.is_empty());
    let second = client
        .list_hosts(pb::ListHostsRequest {
            page_size: 3,
            page_token: first.next_page_token.clone(),
            ..pb::ListHostsRequest::default()
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(second.hosts.len(), 1);
    assert_eq!(second.hosts[0].hostname, d);
    assert!(!second.hosts[0].up && second.hosts[0].heartbeat_time.is_none());
    assert!(second.next_page_token.is_empty());
    let mismatched = client
        .list_hosts(pb::ListHostsRequest {
            page_token: first.next_page_token,
            enabled: Some(true),
            ..pb::ListHostsRequest::default()
        })
        .await
        .expect_err("other filters");
    assert_eq!(mismatched.code(), Code::InvalidArgument);

    app.stop().await;
    fleet.drop_database().await;
}

#[tokio::test]
async fn list_hosts_refuses_bad_filters_naming_the_field_and_with_sqlite_lists_the_one_host() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let hosts = list(&app, pb::ListHostsRequest::default()).await;
    let liveness = list(
        &app,
        pb::ListHostsRequest {
            liveness: 7,
            ..pb::ListHostsRequest::default()
        },
    )
    .await
    .expect_err("not a liveness");
    let selector = list(
        &app,
        pb::ListHostsRequest {
            label_selector: "rack in r1".into(),
            ..pb::ListHostsRequest::default()
        },
    )
    .await
    .expect_err("malformed selector");

    assert_eq!(hosts.expect("list"), [app.hostname.as_str()]);
    assert_eq!(liveness.code(), Code::InvalidArgument);
    assert!(liveness.message().contains("`liveness`"), "{liveness:?}");
    assert_eq!(selector.code(), Code::InvalidArgument);
    assert!(
        selector.message().contains("label_selector"),
        "{selector:?}"
    );
    app.stop().await;
}
