//! Snapshots of a running QEMU guest with a qcow2 disk: disk and memory, so a revert
//! brings the guest back running where it was, without booting.

use std::time::Duration;

use virtplane::grpc::pb::{self, DomainState, LifecycleEventType as Type};

use super::guest::{app_on, busybox};
use crate::support::{
    events::{events_of, wait_for_kind},
    fixtures::state,
    qemu::QemuDaemon,
};

#[tokio::test]
async fn a_snapshot_of_a_running_guest_holds_its_memory_and_a_revert_resumes_it() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "snap", true).await;

    let snapshot = app
        .snapshots
        .create_snapshot(pb::CreateSnapshotRequest {
            domain: guest.name.clone(),
            name: "ready".into(),
            description: "booted and idle".into(),
            ..Default::default()
        })
        .await
        .expect("snapshot")
        .into_inner();
    assert!(snapshot.has_memory && snapshot.current);
    assert_eq!(snapshot.domain_state(), DomainState::Running);
    let listed = daemon.virsh(&["snapshot-list", &guest.name, "--name"]);
    assert_eq!(listed.trim(), "ready");

    app.domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: guest.name.clone(),
            ..Default::default()
        })
        .await
        .expect("destroy");
    let reverted = app
        .snapshots
        .revert_to_snapshot(pb::RevertToSnapshotRequest {
            domain: guest.name.clone(),
            name: "ready".into(),
            ..Default::default()
        })
        .await
        .expect("revert")
        .into_inner();
    assert_eq!(state(&reverted), DomainState::Running);
    assert_eq!(reverted.state_reason, "fromsnapshot");
    assert_eq!(
        guest.boots(),
        0,
        "running from the snapshot's memory, not booting"
    );
    wait_for_kind(&app, &guest.name, Type::Started, Duration::from_secs(10)).await;
    let started: Vec<String> = events_of(&app, &guest.name)
        .await
        .into_iter()
        .filter(|e| e.r#type == i32::from(Type::Started))
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        started.last().map(String::as_str),
        Some("from_snapshot"),
        "{started:?}"
    );

    app.snapshots
        .delete_snapshot(pb::DeleteSnapshotRequest {
            domain: guest.name.clone(),
            name: "ready".into(),
            ..Default::default()
        })
        .await
        .expect("delete");
    let left = daemon.virsh(&["snapshot-list", &guest.name, "--name"]);
    assert!(left.trim().is_empty(), "{left}");
    app.stop().await;
}
