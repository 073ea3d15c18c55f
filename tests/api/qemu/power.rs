//! Power on a real hypervisor: a graceful shutdown that a guest honours (busybox) or
//! ignores (the BIOS-only domain), with and without force; a hard reset that reboots
//! the guest at once; labels on a running QEMU domain, seen by `virsh metadata`.

use std::collections::BTreeMap;

use virtplane::{
    grpc::pb::{self, DomainState, ShutdownOutcome},
    hypervisor::LABELS_NAMESPACE,
};

use super::guest::{BOOT, app_on, bios, busybox, get};
use crate::support::{eventually, fixtures::state, qemu::QemuDaemon};

fn shutdown(name: &str, timeout_s: u32, force: bool) -> pb::ShutdownDomainRequest {
    pb::ShutdownDomainRequest {
        domain: name.into(),
        timeout_s: Some(timeout_s),
        force_after_timeout: force,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_complying_guest_shuts_off_and_one_that_ignores_the_request_times_out_or_is_forced() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "complies", false).await;
    let stubborn = bios(&mut app, "ignores").await;

    let complied = app
        .domains
        .shutdown_domain(shutdown(&guest.name, 60, true))
        .await
        .expect("graceful shutdown")
        .into_inner();
    assert_eq!(complied.outcome(), ShutdownOutcome::ShutOff);
    assert_eq!(
        state(complied.domain.as_ref().expect("domain")),
        DomainState::Shutoff
    );
    assert!(
        guest.console_text().contains("VIRTPLANE-GUEST-POWEROFF"),
        "the guest itself powered off"
    );

    let timed_out = app
        .domains
        .shutdown_domain(shutdown(&stubborn, 2, false))
        .await
        .expect("shutdown without force")
        .into_inner();
    assert_eq!(timed_out.outcome(), ShutdownOutcome::TimedOut);
    assert!(timed_out.waited_ms >= 2000, "{}", timed_out.waited_ms);
    assert_eq!(state(&get(&app, &stubborn).await), DomainState::Running);

    let forced = app
        .domains
        .shutdown_domain(shutdown(&stubborn, 2, true))
        .await
        .expect("shutdown with force")
        .into_inner();
    assert_eq!(forced.outcome(), ShutdownOutcome::Forced);
    let off = forced.domain.expect("domain");
    assert_eq!(
        (state(&off), off.state_reason.as_str()),
        (DomainState::Shutoff, "destroyed")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reset_reboots_the_guest_at_once_and_labels_reach_libvirts_metadata() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "reset", false).await;
    assert_eq!(guest.boots(), 1);

    let reset = app
        .domains
        .reset_domain(pb::ResetDomainRequest {
            domain: guest.name.clone(),
            ..Default::default()
        })
        .await
        .expect("reset")
        .into_inner();
    assert_eq!(state(&reset), DomainState::Running);
    // The same QEMU process: its console log shows a second boot.
    eventually(BOOT, "the guest to boot again after the reset", || {
        let boots = guest.boots();
        async move { boots >= 2 }
    })
    .await;

    let labelled = app
        .domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: guest.name.clone(),
            set: BTreeMap::from([("app".to_owned(), "web".to_owned())]),
            ..Default::default()
        })
        .await
        .expect("labels")
        .into_inner();
    assert_eq!(labelled.labels.get("app").map(String::as_str), Some("web"));
    for scope in ["--live", "--config"] {
        let xml = daemon.virsh(&["metadata", &guest.name, LABELS_NAMESPACE, scope]);
        assert!(
            xml.contains(r#"<label key="app">web</label>"#),
            "{scope}: {xml}"
        );
    }
    app.stop().await;
}
