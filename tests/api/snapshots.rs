//! SnapshotService on the test driver: taking, listing (paged, the current one
//! marked), reading, reverting to and deleting snapshots, and each refusal.

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, fixtures::state, unique_name};

fn create(domain: &str, name: &str) -> pb::CreateSnapshotRequest {
    pb::CreateSnapshotRequest {
        domain: domain.into(),
        name: name.into(),
        ..Default::default()
    }
}

async fn list_all(app: &mut TestApp, domain: &str) -> Vec<pb::Snapshot> {
    let (mut all, mut page_token) = (Vec::new(), String::new());
    loop {
        let page = app
            .snapshots
            .list_snapshots(pb::ListSnapshotsRequest {
                domain: domain.into(),
                page_size: 1,
                page_token,
            })
            .await
            .expect("list")
            .into_inner();
        all.extend(page.snapshots);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn snapshots_are_taken_listed_reverted_to_and_deleted() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("snap");
    app.define(&name).await;
    app.start(&name).await;

    let first = app
        .snapshots
        .create_snapshot(pb::CreateSnapshotRequest {
            description: "before the upgrade".into(),
            ..create(&name, "before")
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(first.name, "before");
    assert_eq!(first.description, "before the upgrade");
    assert_eq!(first.domain_state(), DomainState::Running);
    assert!(first.current && first.has_memory);
    assert!(first.create_time.is_some_and(|t| t.seconds > 0));

    app.domains
        .suspend_domain(pb::SuspendDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("suspend");
    let second = app
        .snapshots
        .create_snapshot(create(&name, "after"))
        .await
        .expect("create a second")
        .into_inner();
    assert_eq!(second.parent, "before");
    assert_eq!(second.domain_state(), DomainState::Paused);

    let listed = list_all(&mut app, &name).await;
    let summary: Vec<(&str, bool)> = listed
        .iter()
        .map(|s| (s.name.as_str(), s.current))
        .collect();
    assert_eq!(
        summary,
        [("after", true), ("before", false)],
        "by name, one current"
    );

    let domain = app
        .snapshots
        .revert_to_snapshot(pb::RevertToSnapshotRequest {
            domain: name.clone(),
            name: "before".into(),
            ..Default::default()
        })
        .await
        .expect("revert")
        .into_inner();
    assert_eq!(
        state(&domain),
        DomainState::Running,
        "back to the running snapshot"
    );
    let before = app
        .snapshots
        .get_snapshot(pb::GetSnapshotRequest {
            domain: name.clone(),
            name: "before".into(),
        })
        .await
        .expect("get")
        .into_inner();
    assert!(before.current, "the snapshot reverted to is current");

    app.snapshots
        .delete_snapshot(pb::DeleteSnapshotRequest {
            domain: name.clone(),
            name: "before".into(),
            with_children: true,
            ..Default::default()
        })
        .await
        .expect("delete with children");
    assert!(list_all(&mut app, &name).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn snapshot_requests_are_refused_with_the_code_a_client_expects() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("snap-bad");
    app.define(&name).await;
    app.snapshots
        .create_snapshot(create(&name, "s1"))
        .await
        .expect("create");

    let taken = app
        .snapshots
        .create_snapshot(create(&name, "s1"))
        .await
        .expect_err("the name is taken");
    assert_eq!(taken.code(), Code::AlreadyExists);
    for bad in ["../x", "has space", ".dot"] {
        let status = app
            .snapshots
            .create_snapshot(create(&name, bad))
            .await
            .expect_err(bad);
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}");
    }
    let long = app
        .snapshots
        .create_snapshot(pb::CreateSnapshotRequest {
            description: "d".repeat(5000),
            ..create(&name, "s2")
        })
        .await
        .expect_err("overlong description");
    assert_eq!(long.code(), Code::InvalidArgument);

    let unknown = app
        .snapshots
        .get_snapshot(pb::GetSnapshotRequest {
            domain: name.clone(),
            name: "nope".into(),
        })
        .await
        .expect_err("no such snapshot");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(
        unknown.message().contains("\"nope\""),
        "{}",
        unknown.message()
    );
    for status in [
        app.snapshots
            .revert_to_snapshot(pb::RevertToSnapshotRequest {
                domain: name.clone(),
                name: "nope".into(),
                ..Default::default()
            })
            .await
            .expect_err("revert"),
        app.snapshots
            .delete_snapshot(pb::DeleteSnapshotRequest {
                domain: name.clone(),
                name: "nope".into(),
                ..Default::default()
            })
            .await
            .expect_err("delete"),
        app.snapshots
            .list_snapshots(pb::ListSnapshotsRequest {
                domain: unique_name("nowhere"),
                ..Default::default()
            })
            .await
            .expect_err("no domain"),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{}", status.message());
    }
    let no_name = app
        .snapshots
        .get_snapshot(pb::GetSnapshotRequest {
            domain: name,
            name: String::new(),
        })
        .await
        .expect_err("name required");
    assert_eq!(no_name.code(), Code::InvalidArgument);
    app.stop().await;
}
