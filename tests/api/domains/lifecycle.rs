//! A domain defined, started, suspended, resumed, rebooted, shut down, destroyed and
//! undefined; malformed XML and actions invalid in its state refused.

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, fixtures::state, unique_name};

#[tokio::test]
async fn define_domain_rejects_malformed_xml_with_libvirts_message() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let malformed = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: "<domain type='test'><name>x</name>".into(),
            ..Default::default()
        })
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(
        malformed.message().contains("define domain"),
        "{}",
        malformed.message()
    );

    let not_a_domain = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: "<network><name>n</name></network>".into(),
            ..Default::default()
        })
        .await
        .expect_err("wrong root element");
    assert_eq!(not_a_domain.code(), Code::InvalidArgument);

    let empty = app
        .domains
        .define_domain(pb::DefineDomainRequest::default())
        .await
        .expect_err("empty");
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert!(empty.message().contains("xml"), "{}", empty.message());
}

#[tokio::test]
async fn a_domain_goes_through_its_whole_lifecycle() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("life");
    let defined = app.define(&name).await;
    assert_eq!(state(&defined), DomainState::Shutoff);
    assert!(defined.persistent);

    let started = app.start(&name).await;
    assert_eq!(state(&started), DomainState::Running);
    assert!(started.id > 0);

    let req = || name.clone();
    let suspended = app
        .domains
        .suspend_domain(pb::SuspendDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect("suspend")
        .into_inner();
    assert_eq!(state(&suspended), DomainState::Paused);

    let resumed = app
        .domains
        .resume_domain(pb::ResumeDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect("resume")
        .into_inner();
    assert_eq!(state(&resumed), DomainState::Running);

    let rebooted = app
        .domains
        .reboot_domain(pb::RebootDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect("reboot")
        .into_inner();
    assert_eq!(state(&rebooted), DomainState::Running);

    let shut_down = app
        .domains
        .shutdown_domain(pb::ShutdownDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect("shutdown")
        .into_inner();
    assert_eq!(
        shut_down.outcome(),
        pb::ShutdownOutcome::Requested,
        "without a timeout the call only asks"
    );
    assert_eq!(
        state(shut_down.domain.as_ref().expect("domain")),
        DomainState::Shutoff
    );

    app.start(&name).await;
    let destroyed = app
        .domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect("destroy")
        .into_inner();
    assert_eq!(state(&destroyed), DomainState::Shutoff);
    assert_eq!(destroyed.state_reason, "destroyed");

    let xml = app
        .domains
        .get_domain_xml(pb::GetDomainXmlRequest {
            domain: req(),
            inactive: true,
            ..Default::default()
        })
        .await
        .expect("xml")
        .into_inner()
        .xml;
    assert!(xml.contains(&format!("<name>{name}</name>")), "{xml}");
    assert!(xml.contains(&defined.uuid), "{xml}");

    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect("undefine");
    let gone = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: req(),
            ..Default::default()
        })
        .await
        .expect_err("undefined");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn operations_invalid_in_the_domains_state_fail_the_precondition() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("state");
    app.define(&name).await;
    let d = || name.clone();

    let shut_off_refusals = [
        (
            "suspend",
            app.domains
                .suspend_domain(pb::SuspendDomainRequest {
                    domain: d(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "resume",
            app.domains
                .resume_domain(pb::ResumeDomainRequest {
                    domain: d(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "shutdown",
            app.domains
                .shutdown_domain(pb::ShutdownDomainRequest {
                    domain: d(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "destroy",
            app.domains
                .destroy_domain(pb::DestroyDomainRequest {
                    domain: d(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "reboot",
            app.domains
                .reboot_domain(pb::RebootDomainRequest {
                    domain: d(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ];
    for (what, result) in shut_off_refusals {
        let err = result.expect_err(what);
        assert_eq!(
            err.code(),
            Code::FailedPrecondition,
            "{what}: {}",
            err.message()
        );
        assert!(
            err.message().contains("shut off"),
            "{what}: {}",
            err.message()
        );
    }

    app.start(&name).await;
    let again = app
        .domains
        .start_domain(pb::StartDomainRequest {
            domain: d(),
            ..Default::default()
        })
        .await
        .expect_err("start a running domain");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let resume_running = app
        .domains
        .resume_domain(pb::ResumeDomainRequest {
            domain: d(),
            ..Default::default()
        })
        .await
        .expect_err("resume a running domain");
    assert_eq!(resume_running.code(), Code::FailedPrecondition);
}

/// A running domain whose definition was removed is transient: destroying it makes it
/// vanish, and the reply says how it ended rather than that it was never there.
#[tokio::test]
async fn destroying_a_transient_domain_answers_its_last_state() {
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
        .expect("undefine a running domain");

    let destroyed = app
        .domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("destroy the transient domain")
        .into_inner();
    assert_eq!(destroyed.name, name);
    assert_eq!(state(&destroyed), DomainState::Shutoff);
    assert!(!destroyed.persistent);
    assert_eq!(destroyed.id, 0, "no longer running");

    let gone = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
            consistency: pb::ReadConsistency::Live.into(),
        })
        .await
        .expect_err("gone once destroyed");
    assert_eq!(gone.code(), Code::NotFound);
}
