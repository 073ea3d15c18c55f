//! The service drives real QEMU guests: a BIOS-only domain started and destroyed, a
//! busybox guest that boots and powers off when asked.

use std::time::{Duration, Instant};

use virtplane::grpc::pb::{self, DomainState};

use super::guest::{app_on, define, get, start};
use crate::support::{
    eventually,
    fixtures::state,
    qemu::{self, QemuDaemon},
    unique_name,
};

#[tokio::test]
async fn a_bios_only_domain_starts_runs_and_is_destroyed_over_grpc() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let name = unique_name("bios");
    let defined = define(&mut app, qemu::bios_domain_xml(&name)).await;
    assert_eq!(state(&defined), DomainState::Shutoff);

    let clock = Instant::now();
    let started = start(&mut app, &name).await;
    eprintln!("BIOS domain started in {:?}", clock.elapsed());
    assert_eq!(state(&started), DomainState::Running);

    let running = get(&app, &name).await;
    assert_eq!(state(&running), DomainState::Running);
    assert!(running.id > 0, "{running:?}");
    let qemu_log = std::fs::read_to_string(daemon.qemu_log(&name)).expect("QEMU's log");
    assert!(
        qemu_log.contains("qemu-system-x86_64") && qemu_log.contains("-accel tcg"),
        "a real QEMU runs the domain:\n{qemu_log}"
    );

    let destroyed = app
        .domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("DestroyDomain")
        .into_inner();
    assert_eq!(state(&destroyed), DomainState::Shutoff);
    assert_eq!(destroyed.state_reason, "destroyed");

    let off = get(&app, &name).await;
    assert_eq!(state(&off), DomainState::Shutoff);
    assert_eq!(off.id, 0);
    assert_eq!(
        daemon.virsh(&["domstate", "--reason", &name]).trim(),
        "shut off (destroyed)"
    );
}

#[tokio::test]
async fn a_busybox_guest_boots_and_powers_off_when_asked_to_shut_down() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let name = unique_name("guest");
    let console = daemon.dir().join(format!("{name}.console.log"));
    let disk = daemon.dir().join(format!("{name}.qcow2"));
    qemu::create_qcow2(&disk, 64);
    define(
        &mut app,
        qemu::busybox_domain_xml(&name, &console, Some(&disk)),
    )
    .await;

    let clock = Instant::now();
    let started = start(&mut app, &name).await;
    assert_eq!(state(&started), DomainState::Running);
    qemu::wait_for_line(&console, qemu::READY_LINE, Duration::from_secs(180)).await;
    eprintln!(
        "busybox guest ready {:?} after StartDomain",
        clock.elapsed()
    );

    // ShutdownDomain without a timeout only asks (the ACPI power button) and answers
    // at once; the guest powers itself off.
    let clock = Instant::now();
    app.domains
        .shutdown_domain(pb::ShutdownDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("ShutdownDomain");
    let client = app.domains.clone();
    eventually(Duration::from_secs(30), "the guest to shut off", || {
        let (mut client, name) = (client.clone(), name.clone());
        async move {
            client
                .get_domain(pb::GetDomainRequest {
                    domain: name,
                    ..Default::default()
                })
                .await
                .is_ok_and(|d| state(d.get_ref()) == DomainState::Shutoff)
        }
    })
    .await;
    eprintln!(
        "busybox guest off {:?} after ShutdownDomain",
        clock.elapsed()
    );
    assert_eq!(get(&app, &name).await.state_reason, "shutdown");
}
