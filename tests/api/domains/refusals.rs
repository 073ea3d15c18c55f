//! A disabled host and a read-only connection serve reads and refuse mutations clearly.

use tonic::Code;
use tonic_types::StatusExt;
use virtplane::grpc::pb::{self};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, domain_xml, unique_name};

#[tokio::test]
async fn a_disabled_host_refuses_define_and_start_but_serves_everything_else() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("disabled");
    app.define(&name).await;
    app.host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: false,
            reason: "kernel upgrade".into(),
            ..Default::default()
        })
        .await
        .expect("disable");

    let define_refused = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(&unique_name("new")),
            ..Default::default()
        })
        .await
        .expect_err("define on a disabled host");
    let start_refused = app
        .domains
        .start_domain(pb::StartDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("start on a disabled host");

    for err in [define_refused, start_refused] {
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(
            err.message().contains("kernel upgrade"),
            "{}",
            err.message()
        );
        let details = err.get_error_details();
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "HOST_DISABLED");
        assert_eq!(info.metadata["disabled_reason"], "kernel upgrade");
        assert!(details.precondition_failure().is_some(), "{details:?}");
    }
    app.domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("reads still work");
    app.domains
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .expect("listing still works");
    app.domains
        .suspend_domain(pb::SuspendDomainRequest {
            domain: "test".into(),
            ..Default::default()
        })
        .await
        .expect("other actions still work");

    app.host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: true,
            reason: String::new(),
            ..Default::default()
        })
        .await
        .expect("enable");
    app.start(&name).await;
}

#[tokio::test]
async fn a_read_only_connection_serves_reads_and_refuses_mutations_clearly() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER).read_only()).await;

    let host = app
        .host
        .get_host(pb::GetHostRequest::default())
        .await
        .expect("get host")
        .into_inner();
    assert!(host.read_only);
    app.domains
        .get_domain(pb::GetDomainRequest {
            domain: "test".into(),
            ..Default::default()
        })
        .await
        .expect("reads work");

    let define = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(&unique_name("ro")),
            ..Default::default()
        })
        .await
        .expect_err("read-only");
    assert_eq!(
        define.code(),
        Code::FailedPrecondition,
        "{}",
        define.message()
    );
    assert!(
        define.message().contains("read only"),
        "{}",
        define.message()
    );

    let secure = app
        .domains
        .get_domain_xml(pb::GetDomainXmlRequest {
            domain: "test".into(),
            secure: true,
            inactive: false,
        })
        .await
        .expect_err("secure XML on a read-only connection");
    assert_eq!(secure.code(), Code::FailedPrecondition);
}
