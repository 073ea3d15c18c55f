//! Save, restore and managed save of a running QEMU guest: it comes back where it
//! was, without booting again (its console shows no new ready line), and still
//! honours a shutdown request.

use std::time::Duration;

use virtplane::grpc::pb::{self, DomainState, LifecycleEventType as Type, ShutdownOutcome};

use super::guest::{Guest, app_on, busybox, start};
use crate::support::{
    events::{events_of, wait_for_kind},
    fixtures::state,
    qemu::QemuDaemon,
};

/// The guest's init is alive (not booting): it powers off on the ACPI button.
async fn still_running_its_init(app: &mut crate::support::TestApp, guest: &Guest) {
    assert_eq!(
        guest.boots(),
        0,
        "no boot since QEMU started: the state was restored"
    );
    let reply = app
        .domains
        .shutdown_domain(pb::ShutdownDomainRequest {
            domain: guest.name.clone(),
            timeout_s: Some(60),
            ..Default::default()
        })
        .await
        .expect("shutdown")
        .into_inner();
    assert_eq!(reply.outcome(), ShutdownOutcome::ShutOff);
    assert!(guest.console_text().contains("VIRTPLANE-GUEST-POWEROFF"));
}

#[tokio::test]
async fn a_saved_guest_is_restored_where_it_was() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "save", false).await;

    let saved = app
        .domains
        .save_domain(pb::SaveDomainRequest {
            domain: guest.name.clone(),
            file: "guest.save".into(),
            ..Default::default()
        })
        .await
        .expect("save")
        .into_inner();
    assert_eq!(
        (state(&saved), saved.state_reason.as_str()),
        (DomainState::Shutoff, "saved")
    );
    let image = app.scratch.join("save").join("guest.save");
    assert!(std::fs::metadata(&image).expect("the image").len() > 1024 * 1024);

    let restored = app
        .domains
        .restore_domain(pb::RestoreDomainRequest {
            file: "guest.save".into(),
            paused: true,
            ..Default::default()
        })
        .await
        .expect("restore")
        .into_inner();
    assert_eq!(state(&restored), DomainState::Paused);
    wait_for_kind(&app, &guest.name, Type::Started, Duration::from_secs(10)).await;
    let details: Vec<(i32, String)> = events_of(&app, &guest.name)
        .await
        .into_iter()
        .map(|e| (e.r#type, e.detail))
        .collect();
    assert!(
        details.contains(&(Type::Stopped.into(), "saved".into()))
            && details.contains(&(Type::Started.into(), "restored".into())),
        "{details:?}"
    );
    app.domains
        .resume_domain(pb::ResumeDomainRequest {
            domain: guest.name.clone(),
            ..Default::default()
        })
        .await
        .expect("resume");
    tokio::time::sleep(Duration::from_millis(500)).await;
    still_running_its_init(&mut app, &guest).await;
    app.stop().await;
}

#[tokio::test]
async fn a_managed_save_resumes_on_the_next_start() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "managed", false).await;

    let saved = app
        .domains
        .managed_save_domain(pb::ManagedSaveDomainRequest {
            domain: guest.name.clone(),
            ..Default::default()
        })
        .await
        .expect("managed save")
        .into_inner();
    assert!(saved.has_managed_save);
    assert_eq!(state(&saved), DomainState::Shutoff);

    let resumed = start(&mut app, &guest.name).await;
    assert_eq!(
        (
            state(&resumed),
            resumed.state_reason.as_str(),
            resumed.has_managed_save
        ),
        (DomainState::Running, "restored", false)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    still_running_its_init(&mut app, &guest).await;
    app.stop().await;
}
