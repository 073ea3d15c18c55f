//! Safe retries: a mutation repeated with its `request_id` gets the first reply
//! without acting again, across a restart of the service too; the id with another
//! request is refused; two concurrent requests with one id act once.

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState, LifecycleEventType as Type};

use crate::support::{
    Scratch, TEST_DRIVER, TestApp, TestOptions, events::events_of, fixtures::state, unique_name,
};

fn suspend(domain: &str, request_id: &str) -> pb::SuspendDomainRequest {
    pb::SuspendDomainRequest {
        domain: domain.into(),
        request_id: request_id.into(),
    }
}

async fn count(app: &TestApp, name: &str, kind: Type) -> usize {
    events_of(app, name)
        .await
        .iter()
        .filter(|e| e.r#type == i32::from(kind))
        .count()
}

#[tokio::test]
async fn a_repeated_request_gets_the_first_reply_without_acting_again_even_after_a_restart() {
    // The in-process test driver keeps its state while a connection holds it.
    let _holder = virt::connect::Connect::open(Some(TEST_DRIVER)).expect("hold the state");
    let scratch = Scratch::create();
    // The same host in the same database: request ids are kept per host.
    let options = TestOptions::new(TEST_DRIVER);
    let mut app = TestApp::spawn_in(options.clone(), &scratch).await;
    let name = unique_name("retried");
    app.define(&name).await;
    app.start(&name).await;

    let first = app
        .domains
        .suspend_domain(suspend(&name, "op-1"))
        .await
        .expect("suspend")
        .into_inner();
    assert_eq!(state(&first), DomainState::Paused);
    let repeat = app
        .domains
        .suspend_domain(suspend(&name, "op-1"))
        .await
        .expect("a repeat is answered, not refused as already paused")
        .into_inner();
    assert_eq!(repeat, first);
    let without_id = app
        .domains
        .suspend_domain(suspend(&name, ""))
        .await
        .expect_err("without an id the call acts, and a paused domain cannot pause");
    assert_eq!(without_id.code(), Code::FailedPrecondition);

    app.stop().await;
    let mut app = TestApp::spawn_in(options, &scratch).await;
    let after_restart = app
        .domains
        .suspend_domain(suspend(&name, "op-1"))
        .await
        .expect("the stored reply outlives the process")
        .into_inner();
    assert_eq!(after_restart, first);
    app.stop().await;
}

#[tokio::test]
async fn an_id_reused_for_another_request_or_malformed_is_refused() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("reused");
    app.define(&name).await;
    app.start(&name).await;
    app.domains
        .suspend_domain(suspend(&name, "op-2"))
        .await
        .expect("suspend");

    let other_domain = app
        .domains
        .suspend_domain(suspend("test", "op-2"))
        .await
        .expect_err("same id, other fields");
    assert_eq!(other_domain.code(), Code::InvalidArgument);
    assert!(
        other_domain.message().contains("request_id"),
        "{}",
        other_domain.message()
    );
    let other_method = app
        .domains
        .resume_domain(pb::ResumeDomainRequest {
            domain: name.clone(),
            request_id: "op-2".into(),
        })
        .await
        .expect_err("same id, other method");
    assert_eq!(other_method.code(), Code::InvalidArgument);
    assert!(
        other_method.message().contains("SuspendDomain"),
        "{}",
        other_method.message()
    );

    for bad in ["has space", &"x".repeat(129), "tab\t"] {
        let status = app
            .domains
            .resume_domain(pb::ResumeDomainRequest {
                domain: name.clone(),
                request_id: bad.to_owned(),
            })
            .await
            .expect_err("malformed id");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("request_id"),
            "{}",
            status.message()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn two_concurrent_requests_with_one_id_act_once() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let name = unique_name("concurrent");
    app.define(&name).await;
    let start = || pb::StartDomainRequest {
        domain: name.clone(),
        request_id: "boot-once".into(),
    };
    let (mut a, mut b) = (app.domains.clone(), app.domains.clone());
    let (first, second) = tokio::join!(a.start_domain(start()), b.start_domain(start()));
    let (first, second) = (
        first.expect("first").into_inner(),
        second.expect("second").into_inner(),
    );
    assert_eq!(first, second);
    assert_eq!(state(&first), DomainState::Running);
    crate::support::events::wait_for_kind(
        &app,
        &name,
        Type::Started,
        std::time::Duration::from_secs(5),
    )
    .await;
    assert_eq!(count(&app, &name, Type::Started).await, 1, "started once");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_request_releases_its_id_so_a_retry_acts() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("failed-first");
    let first = app
        .domains
        .start_domain(pb::StartDomainRequest {
            domain: name.clone(),
            request_id: "later".into(),
        })
        .await
        .expect_err("no such domain yet");
    assert_eq!(first.code(), Code::NotFound);
    app.define(&name).await;
    let retried = app
        .domains
        .start_domain(pb::StartDomainRequest {
            domain: name.clone(),
            request_id: "later".into(),
        })
        .await
        .expect("the retry acts")
        .into_inner();
    assert_eq!(state(&retried), DomainState::Running);
    app.stop().await;
}
