//! DomainService against libvirt's in-process test driver: every method's happy path
//! and each error code a client must be able to rely on.

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, domain_xml, unique_name};

fn state(domain: &pb::Domain) -> DomainState {
    DomainState::try_from(domain.state).expect("known state")
}

#[tokio::test]
async fn list_domains_shows_the_test_hypervisors_built_in_domain() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let reply = app
        .domains
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .expect("list")
        .into_inner();

    let test = reply
        .domains
        .iter()
        .find(|d| d.name == "test")
        .expect("built-in domain");
    assert_eq!(state(test), DomainState::Running);
    assert_eq!(test.uuid.len(), 36);
    assert!(test.vcpus > 0 && test.memory_kib > 0);
    assert!(test.persistent);
    assert!(reply.next_page_token.is_empty());
}

#[tokio::test]
async fn list_domains_pages_through_every_domain_once_in_name_order() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let prefix = unique_name("page");
    for i in 0..5 {
        app.define(&format!("{prefix}-{i}")).await;
    }

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let reply = app
            .domains
            .list_domains(pb::ListDomainsRequest {
                page_size: 2,
                page_token: page_token.clone(),
                state: DomainState::Shutoff.into(),
            })
            .await
            .expect("list page")
            .into_inner();
        assert!(reply.domains.len() <= 2);
        seen.extend(reply.domains.into_iter().map(|d| d.name));
        if reply.next_page_token.is_empty() {
            break;
        }
        page_token = reply.next_page_token;
    }

    let expected: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();
    assert_eq!(seen, expected, "shut-off domains only, each once, by name");
}

#[tokio::test]
async fn list_domains_filters_by_state() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("filter");
    app.define(&name).await;

    let running = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            state: DomainState::Running.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();

    assert!(
        running
            .domains
            .iter()
            .all(|d| state(d) == DomainState::Running)
    );
    assert!(running.domains.iter().any(|d| d.name == "test"));
    assert!(!running.domains.iter().any(|d| d.name == name));
}

#[tokio::test]
async fn list_domains_rejects_bad_paging_arguments() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let prefix = unique_name("tok");
    app.define(&format!("{prefix}-a")).await;
    app.define(&format!("{prefix}-b")).await;

    let garbage = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .expect_err("garbage token");
    assert_eq!(garbage.code(), Code::InvalidArgument);
    assert!(
        garbage.message().contains("page_token"),
        "{}",
        garbage.message()
    );

    let negative = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_eq!(negative.code(), Code::InvalidArgument);

    let first = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    let other_filter = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            page_size: 1,
            page_token: first.next_page_token,
            state: DomainState::Paused.into(),
        })
        .await
        .expect_err("token from another filter");
    assert_eq!(other_filter.code(), Code::InvalidArgument);

    let unknown_state = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            state: 99,
            ..Default::default()
        })
        .await
        .expect_err("unknown state");
    assert_eq!(unknown_state.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn get_domain_finds_a_domain_by_name_or_uuid_in_any_case() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("get");
    let defined = app.define(&name).await;

    let by_name = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
        })
        .await
        .expect("by name")
        .into_inner();
    let by_uuid = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: defined.uuid.to_uppercase(),
        })
        .await
        .expect("by uuid")
        .into_inner();

    assert_eq!(by_name, defined);
    assert_eq!(by_uuid, defined);
    assert_eq!(state(&defined), DomainState::Shutoff);
    assert_eq!(defined.memory_kib, 131_072);
    assert_eq!(defined.vcpus, 2);
}

#[tokio::test]
async fn unknown_and_empty_domain_references_are_not_found_and_invalid() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let missing = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: "no-such-domain".into(),
        })
        .await
        .expect_err("unknown name");
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing.message().contains("no-such-domain"),
        "{}",
        missing.message()
    );

    let missing_uuid = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: "00000000-0000-0000-0000-000000000001".into(),
        })
        .await
        .expect_err("unknown uuid");
    assert_eq!(missing_uuid.code(), Code::NotFound);

    let empty = app
        .domains
        .get_domain(pb::GetDomainRequest::default())
        .await
        .expect_err("empty reference");
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert!(empty.message().contains("domain"), "{}", empty.message());

    for (what, result) in [
        (
            "start",
            app.domains
                .start_domain(pb::StartDomainRequest {
                    domain: "no-such-domain".into(),
                })
                .await
                .map(drop),
        ),
        (
            "undefine",
            app.domains
                .undefine_domain(pb::UndefineDomainRequest {
                    domain: "no-such-domain".into(),
                })
                .await
                .map(drop),
        ),
        (
            "xml",
            app.domains
                .get_domain_xml(pb::GetDomainXmlRequest {
                    domain: "no-such-domain".into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ] {
        let err = result.expect_err(what);
        assert_eq!(err.code(), Code::NotFound, "{what}: {}", err.message());
    }
}

#[tokio::test]
async fn define_domain_rejects_malformed_xml_with_libvirts_message() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let malformed = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: "<domain type='test'><name>x</name>".into(),
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
        .suspend_domain(pb::SuspendDomainRequest { domain: req() })
        .await
        .expect("suspend")
        .into_inner();
    assert_eq!(state(&suspended), DomainState::Paused);

    let resumed = app
        .domains
        .resume_domain(pb::ResumeDomainRequest { domain: req() })
        .await
        .expect("resume")
        .into_inner();
    assert_eq!(state(&resumed), DomainState::Running);

    let rebooted = app
        .domains
        .reboot_domain(pb::RebootDomainRequest { domain: req() })
        .await
        .expect("reboot")
        .into_inner();
    assert_eq!(state(&rebooted), DomainState::Running);

    let shut_down = app
        .domains
        .shutdown_domain(pb::ShutdownDomainRequest { domain: req() })
        .await
        .expect("shutdown")
        .into_inner();
    assert_eq!(state(&shut_down), DomainState::Shutoff);

    app.start(&name).await;
    let destroyed = app
        .domains
        .destroy_domain(pb::DestroyDomainRequest { domain: req() })
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
        .undefine_domain(pb::UndefineDomainRequest { domain: req() })
        .await
        .expect("undefine");
    let gone = app
        .domains
        .get_domain(pb::GetDomainRequest { domain: req() })
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
                .suspend_domain(pb::SuspendDomainRequest { domain: d() })
                .await
                .map(drop),
        ),
        (
            "resume",
            app.domains
                .resume_domain(pb::ResumeDomainRequest { domain: d() })
                .await
                .map(drop),
        ),
        (
            "shutdown",
            app.domains
                .shutdown_domain(pb::ShutdownDomainRequest { domain: d() })
                .await
                .map(drop),
        ),
        (
            "destroy",
            app.domains
                .destroy_domain(pb::DestroyDomainRequest { domain: d() })
                .await
                .map(drop),
        ),
        (
            "reboot",
            app.domains
                .reboot_domain(pb::RebootDomainRequest { domain: d() })
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
        .start_domain(pb::StartDomainRequest { domain: d() })
        .await
        .expect_err("start a running domain");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let resume_running = app
        .domains
        .resume_domain(pb::ResumeDomainRequest { domain: d() })
        .await
        .expect_err("resume a running domain");
    assert_eq!(resume_running.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_disabled_host_refuses_define_and_start_but_serves_everything_else() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("disabled");
    app.define(&name).await;
    app.host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: false,
            reason: "kernel upgrade".into(),
        })
        .await
        .expect("disable");

    let define_refused = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(&unique_name("new")),
        })
        .await
        .expect_err("define on a disabled host");
    let start_refused = app
        .domains
        .start_domain(pb::StartDomainRequest {
            domain: name.clone(),
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
    }
    app.domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
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
        })
        .await
        .expect("other actions still work");

    app.host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: true,
            reason: String::new(),
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
        .get_host(pb::GetHostRequest {})
        .await
        .expect("get host")
        .into_inner();
    assert!(host.read_only);
    app.domains
        .get_domain(pb::GetDomainRequest {
            domain: "test".into(),
        })
        .await
        .expect("reads work");

    let define = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(&unique_name("ro")),
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
