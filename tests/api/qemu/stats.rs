//! Real statistics of QEMU guests: CPU time grows while a domain runs, vCPUs and the
//! balloon are reported, and the disk the guest's kernel read shows in its counters.

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
    // Sampled across the busybox guest's boot, seconds during which the BIOS works
    // (once it has given up booting it may halt, and a halted vCPU uses no time).
    let first = stats_of(&mut app, &idle).await;
    let guest = busybox(&mut app, &daemon, "stats-disk", true).await;
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

/// A guest whose monitor is busy with a save job is answered with its last full
/// sample, marked stale and aged, never dropped. The busy moment is short (the start
/// of the job), so the save is tried a few times, restoring in between.
#[tokio::test]
async fn a_busy_guest_is_answered_stale_with_its_last_full_sample() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "stats-busy", true).await;
    let full = stats_of(&mut app, &guest.name).await;
    let read_bytes = |s: &pb::DomainStats| s.blocks.first().map_or(0, |b| b.read_bytes);
    assert!(!full.stale && read_bytes(&full) > 0, "{full:?}");

    let mut seen = None;
    for attempt in 0..4 {
        let mut saver = app.domains.clone();
        let (name, file) = (guest.name.clone(), format!("busy-{attempt}.save"));
        let save = tokio::spawn(async move {
            saver
                .save_domain(pb::SaveDomainRequest {
                    domain: name,
                    file,
                    ..Default::default()
                })
                .await
        });
        while !save.is_finished() && seen.is_none() {
            let all = app
                .stats
                .list_domain_stats(pb::ListDomainStatsRequest::default())
                .await
                .expect("list")
                .into_inner()
                .domains;
            seen = all.into_iter().find(|d| d.name == guest.name && d.stale);
        }
        save.await.expect("save task").expect("save");
        if seen.is_some() {
            break;
        }
        app.domains
            .restore_domain(pb::RestoreDomainRequest {
                file: format!("busy-{attempt}.save"),
                ..Default::default()
            })
            .await
            .expect("restore");
    }
    let stale = seen.expect("a sample taken while the save job held the monitor");
    assert!(
        read_bytes(&stale) >= read_bytes(&full) && read_bytes(&stale) > 0,
        "the last full sample's counters, not zeros: {stale:?}"
    );
    // The sample the service kept is the one taken before the job, by this call or
    // by the listing that ran just before the busy moment: never older than the test.
    assert!(stale.age_ms < 60_000, "{stale:?}");
    app.stop().await;
}
