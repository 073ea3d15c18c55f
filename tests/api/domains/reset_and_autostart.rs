//! A hard reset of a running domain, and the autostart flag: each with the errors a
//! client must be able to rely on; autostart seen by another libvirt client.

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, fixtures::state, libvirtd::Libvirtd, unique_name,
};

#[tokio::test]
async fn reset_restarts_a_running_domain_and_refuses_one_that_is_off() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("reset");
    app.define(&name).await;

    let off = app
        .domains
        .reset_domain(pb::ResetDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a shut-off domain has nothing to reset");
    assert_eq!(off.code(), Code::FailedPrecondition);
    assert!(
        off.message().contains("shut off") && off.message().contains("a running domain"),
        "{}",
        off.message()
    );

    app.start(&name).await;
    let reset = app
        .domains
        .reset_domain(pb::ResetDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("reset")
        .into_inner();
    assert_eq!(state(&reset), DomainState::Running);

    let missing = app
        .domains
        .reset_domain(pb::ResetDomainRequest {
            domain: unique_name("nowhere"),
            ..Default::default()
        })
        .await
        .expect_err("unknown domain");
    assert_eq!(missing.code(), Code::NotFound);
    let empty = app
        .domains
        .reset_domain(pb::ResetDomainRequest::default())
        .await
        .expect_err("no domain");
    assert_eq!(empty.code(), Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn autostart_is_set_and_cleared_and_another_client_sees_it() {
    let daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    let name = unique_name("boots");
    app.define(&name).await;

    let set = |autostart| pb::SetDomainAutostartRequest {
        domain: name.clone(),
        autostart,
        ..Default::default()
    };
    let on = app
        .domains
        .set_domain_autostart(set(true))
        .await
        .expect("autostart on")
        .into_inner();
    assert!(on.autostart);
    assert!(
        daemon
            .virsh(&["dominfo", &name])
            .lines()
            .any(|l| l.starts_with("Autostart:") && l.contains("enable")),
        "virsh sees autostart enabled"
    );
    let off = app
        .domains
        .set_domain_autostart(set(false))
        .await
        .expect("autostart off")
        .into_inner();
    assert!(!off.autostart);
    app.stop().await;
}

#[tokio::test]
async fn autostart_is_refused_for_a_transient_domain_and_an_unknown_one() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("transient");
    app.define(&name).await;
    app.start(&name).await;
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("undefine leaves it running, transient");

    let transient = app
        .domains
        .set_domain_autostart(pb::SetDomainAutostartRequest {
            domain: name.clone(),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect_err("transient");
    assert_eq!(transient.code(), Code::FailedPrecondition);
    assert!(
        transient.message().contains("transient"),
        "{}",
        transient.message()
    );

    let missing = app
        .domains
        .set_domain_autostart(pb::SetDomainAutostartRequest {
            domain: unique_name("nowhere"),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect_err("unknown domain");
    assert_eq!(missing.code(), Code::NotFound);
    app.stop().await;
}
