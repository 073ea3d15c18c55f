//! HostService: the host's state, operator enable/disable, persistence on both
//! database backends, and secrets kept out of replies.

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, eventually, postgres::ScratchDatabase};

async fn set_enabled(
    app: &mut TestApp,
    enabled: bool,
    reason: &str,
) -> Result<pb::Host, tonic::Status> {
    app.host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled,
            reason: reason.into(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn get_host_describes_the_connected_hypervisor() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER).hostname("hv-17")).await;

    let host = app.host_info().await;

    assert_eq!(host.hostname, "hv-17");
    assert!(host.enabled);
    assert!(host.disabled_reason.is_empty());
    assert!(host.connected);
    assert_eq!(host.libvirt_uri, TEST_DRIVER);
    assert_eq!(host.hypervisor_type, "TEST");
    assert!(host.hypervisor_version.contains('.'));
    assert!(
        host.libvirt_version
            .starts_with(|c: char| c.is_ascii_digit())
    );
    assert_eq!(host.reconnects, 0);
    assert!(host.last_error.is_empty());
    assert!(host.connect_attempts >= 1);
}

#[tokio::test]
async fn an_operator_disables_with_a_reason_and_enables_again() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let disabled = set_enabled(&mut app, false, "  hardware check ")
        .await
        .expect("disable");
    assert!(!disabled.enabled);
    assert_eq!(disabled.disabled_reason, "hardware check");
    assert!(!app.host_info().await.enabled);

    let enabled = set_enabled(&mut app, true, "").await.expect("enable");
    assert!(enabled.enabled);
    assert!(enabled.disabled_reason.is_empty());
}

#[tokio::test]
async fn disabling_needs_a_reason_that_does_not_pose_as_automatic() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    for (reason, mentions) in [
        ("", "required"),
        ("AUTO: fake", "AUTO: "),
        (&"x".repeat(300), "255"),
    ] {
        let err = set_enabled(&mut app, false, reason)
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains(mentions), "{}", err.message());
    }
    assert!(app.host_info().await.enabled, "nothing changed");
}

async fn host_state_survives_a_restart(database_url: Option<String>) {
    let mut options = TestOptions::new(TEST_DRIVER);
    if let Some(url) = database_url {
        options = options.database(url);
    }
    let mut first = TestApp::spawn(options.clone()).await;
    set_enabled(&mut first, false, "rack move")
        .await
        .expect("disable");
    let scratch = first.scratch.clone();
    first.stop().await;

    let second = TestApp::spawn_in(options, &scratch).await;
    let host = second.host_info().await;
    assert!(!host.enabled);
    assert_eq!(host.disabled_reason, "rack move");
    second.stop().await;
}

#[tokio::test]
async fn host_state_survives_a_restart_on_sqlite() {
    host_state_survives_a_restart(None).await;
}

#[tokio::test]
async fn host_state_survives_a_restart_on_postgres() {
    let db = ScratchDatabase::create().await;
    host_state_survives_a_restart(Some(db.url())).await;
    db.drop_database().await;
}

#[tokio::test]
async fn an_unreachable_libvirt_disables_the_host_and_never_shows_the_password() {
    // Nothing listens on port 1: every connect fails.
    let uri = "test+tcp://admin:hunter2@127.0.0.1:1/default";
    let mut app = TestApp::spawn(TestOptions::new(uri)).await;

    let host = app.host_info().await;
    assert!(!host.connected);
    assert!(!host.enabled);
    assert!(
        host.disabled_reason.starts_with("AUTO: "),
        "{}",
        host.disabled_reason
    );
    assert_eq!(host.libvirt_uri, "test+tcp://admin:***@127.0.0.1:1/default");
    assert!(!host.last_error.is_empty());
    let err = app
        .domains
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .expect_err("libvirt unreachable");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().contains("cannot connect to libvirt"),
        "{}",
        err.message()
    );

    let everything = format!("{host:?} {}", err.message());
    assert!(
        !everything.contains("hunter2"),
        "password leaked: {everything}"
    );
    eventually(
        std::time::Duration::from_secs(5),
        "DomainService NOT_SERVING",
        || {
            let mut health = app.health.clone();
            async move {
                health
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: "virtplane.v1.DomainService".into(),
                    })
                    .await
                    .map(|r| {
                        r.into_inner().status
                            == tonic_health::pb::health_check_response::ServingStatus::NotServing
                                as i32
                    })
                    .unwrap_or(false)
            }
        },
    )
    .await;
}
