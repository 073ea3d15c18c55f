//! A domain's definition on QEMU: autostart kept by the daemon, create-only define,
//! and undefine removing a managed save image and snapshots in one call.

use tonic::Code;
use virtplane::grpc::pb;

use super::guest::{app_on, define, start};
use crate::support::{
    qemu::{self, QemuDaemon},
    unique_name,
};

#[tokio::test]
async fn a_domain_with_a_managed_save_and_snapshots_is_undefined_in_one_call() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let name = unique_name("undefine");
    let disk = daemon.dir().join(format!("{name}.qcow2"));
    qemu::create_qcow2(&disk, 16);
    let xml = qemu::bios_with_disk_xml(&name, &disk);
    define(&mut app, xml.clone()).await;

    let again = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml,
            create_only: true,
            ..Default::default()
        })
        .await
        .expect_err("the name is taken");
    assert_eq!(again.code(), Code::AlreadyExists);

    let autostart = app
        .domains
        .set_domain_autostart(pb::SetDomainAutostartRequest {
            domain: name.clone(),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect("autostart")
        .into_inner();
    assert!(autostart.autostart);
    assert!(
        daemon
            .virsh(&["dominfo", &name])
            .contains("Autostart:      enable")
    );

    start(&mut app, &name).await;
    app.snapshots
        .create_snapshot(pb::CreateSnapshotRequest {
            domain: name.clone(),
            name: "kept".into(),
            ..Default::default()
        })
        .await
        .expect("snapshot");
    app.domains
        .managed_save_domain(pb::ManagedSaveDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("managed save");

    let refused = app
        .domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("libvirt keeps what the call does not name");
    assert_eq!(
        refused.code(),
        Code::FailedPrecondition,
        "{}",
        refused.message()
    );

    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            remove_managed_save: true,
            remove_snapshots: true,
            ..Default::default()
        })
        .await
        .expect("undefine with its image and snapshots");
    let listed = daemon.virsh(&["list", "--all", "--name"]);
    assert!(!listed.contains(&name), "{listed}");
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name,
            allow_missing: true,
            ..Default::default()
        })
        .await
        .expect("already gone is fine");
    app.stop().await;
}
