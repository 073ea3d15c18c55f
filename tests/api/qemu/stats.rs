//! Real statistics of QEMU guests: CPU time grows while a domain runs, vCPUs and the
//! balloon are reported, and the disk the guest's kernel read shows in its counters.

use std::time::Duration;

use virtplane::grpc::pb::{self, DomainState};

use super::guest::{app_on, bios, busybox};
use crate::support::qemu::QemuDaemon;

async fn stats_of(app: &mut crate::support::TestApp, name: &str) -> pb::DomainStats {
    app.stats
        .get_domain_stats(pb::GetDomainStatsRequest {
            domain: name.into(),
        })
        .await
        .expect("stats")
        .into_inner()
}

#[tokio::test]
async fn a_running_guests_cpu_time_grows_and_its_disk_counters_move() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let idle = bios(&mut app, "stats-bios").await;
    let guest = busybox(&mut app, &daemon, "stats-disk", true).await;

    let first = stats_of(&mut app, &idle).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = stats_of(&mut app, &idle).await;
    let (cpu0, cpu1) = (
        first.cpu.expect("cpu").time_ns,
        later.cpu.expect("cpu").time_ns,
    );
    assert!(
        cpu0 > 0 && cpu1 > cpu0,
        "CPU time grows: {cpu0} then {cpu1}"
    );
    let vcpu = later.vcpu.expect("vcpu");
    assert_eq!((vcpu.current, vcpu.maximum, vcpu.times_ns.len()), (1, 1, 1));
    let balloon = later.balloon.expect("balloon");
    assert_eq!(balloon.maximum_kib, 65_536);
    assert!(balloon.rss_kib > 0);
    assert!(!later.stale);

    let all = app
        .stats
        .list_domain_stats(pb::ListDomainStatsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .domains;
    let disk = all
        .iter()
        .find(|d| d.name == guest.name)
        .expect("the busybox guest");
    assert_eq!(disk.state(), DomainState::Running);
    let vda = disk.blocks.iter().find(|b| b.name == "vda").expect("vda");
    assert!(
        vda.read_bytes > 0 && vda.read_requests > 0,
        "the guest's kernel read its partition table: {vda:?}"
    );
    assert_eq!(vda.capacity_bytes, 64 * 1024 * 1024);
    app.stop().await;
}
