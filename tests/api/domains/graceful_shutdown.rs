//! ShutdownDomain with a timeout on the test driver, whose guests always comply, and
//! the arguments it refuses. (Guests that do not comply run on QEMU: `qemu::power`.)

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState, ShutdownOutcome};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, fixtures::state, unique_name};

#[tokio::test]
async fn a_complying_guest_is_reported_shut_off_within_the_timeout() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("graceful");
    app.define(&name).await;
    app.start(&name).await;
    let reply = app
        .domains
        .shutdown_domain(pb::ShutdownDomainRequest {
            domain: name.clone(),
            timeout_s: Some(10),
            force_after_timeout: true,
            ..Default::default()
        })
        .await
        .expect("shutdown")
        .into_inner();
    assert_eq!(reply.outcome(), ShutdownOutcome::ShutOff);
    assert_eq!(
        state(reply.domain.as_ref().expect("domain")),
        DomainState::Shutoff
    );
    app.stop().await;
}

#[tokio::test]
async fn a_timeout_out_of_range_or_force_without_one_is_refused() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("graceful-bad");
    app.define(&name).await;
    app.start(&name).await;
    for (timeout_s, force, says) in [
        (Some(0), false, "`timeout_s` must be between 1 and 3600"),
        (Some(3601), false, "`timeout_s` must be between 1 and 3600"),
        (None, true, "`force_after_timeout` needs `timeout_s`"),
    ] {
        let status = app
            .domains
            .shutdown_domain(pb::ShutdownDomainRequest {
                domain: name.clone(),
                timeout_s,
                force_after_timeout: force,
                ..Default::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(says), "{}", status.message());
    }
    let running = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name,
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        state(&running),
        DomainState::Running,
        "nothing was asked of the guest"
    );
    app.stop().await;
}
