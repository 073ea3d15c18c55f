//! Resizing a running QEMU guest: the balloon moves its memory, a vCPU is plugged
//! in, and its definition takes a new maximum for the next boot.

use std::time::Duration;

use tonic::Code;
use virtplane::grpc::pb;

use super::guest::{app_on, busybox, get};
use crate::support::{eventually, qemu::QemuDaemon};

#[tokio::test]
async fn a_running_guest_is_resized_live_and_in_its_definition() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "resize", false).await;
    let resize = |change: pb::SetDomainResourcesRequest| pb::SetDomainResourcesRequest {
        domain: guest.name.clone(),
        ..change
    };

    let live = app
        .domains
        .set_domain_resources(resize(pb::SetDomainResourcesRequest {
            memory_kib: Some(131_072),
            vcpus: Some(2),
            live: true,
            ..Default::default()
        }))
        .await
        .expect("live resize")
        .into_inner();
    assert_eq!(live.vcpus, 2);
    // The guest's balloon driver gives the memory back over a moment.
    eventually(
        Duration::from_secs(30),
        "the balloon to reach 128 MiB",
        || {
            let (app, name) = (&app, guest.name.clone());
            async move { get(app, &name).await.memory_kib == 131_072 }
        },
    )
    .await;
    let stats = daemon.virsh(&["dommemstat", &guest.name]);
    assert!(
        stats.contains("actual 131072"),
        "the balloon moved: {stats}"
    );
    let vcpus = daemon.virsh(&["vcpucount", &guest.name, "--live", "--active"]);
    assert_eq!(vcpus.trim(), "2");

    let above = app
        .domains
        .set_domain_resources(resize(pb::SetDomainResourcesRequest {
            vcpus: Some(3),
            live: true,
            ..Default::default()
        }))
        .await
        .expect_err("above the maximum");
    assert_eq!(above.code(), Code::OutOfRange);
    assert!(
        above.message().contains("maximum of 2 vCPUs"),
        "{}",
        above.message()
    );

    let config = app
        .domains
        .set_domain_resources(resize(pb::SetDomainResourcesRequest {
            max_memory_kib: Some(393_216),
            memory_kib: Some(327_680),
            config: true,
            ..Default::default()
        }))
        .await
        .expect("a bigger definition")
        .into_inner();
    assert_eq!(
        config.max_memory_kib, 262_144,
        "the running guest keeps its maximum"
    );
    let inactive = daemon.virsh(&["dumpxml", "--inactive", &guest.name]);
    assert!(
        inactive.contains("<memory unit='KiB'>393216</memory>")
            && inactive.contains("<currentMemory unit='KiB'>327680</currentMemory>"),
        "{inactive}"
    );
    assert_eq!(get(&app, &guest.name).await.memory_kib, 131_072);
    app.stop().await;
}
