//! ListDomains and GetDomain: paging, filters, lookups by name or UUID, and the
//! references and arguments they refuse.

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, fixtures::state, unique_name};

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
                ..Default::default()
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
            ..Default::default()
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
            ..Default::default()
        })
        .await
        .expect("by name")
        .into_inner();
    let by_uuid = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: defined.uuid.to_uppercase(),
            ..Default::default()
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
            ..Default::default()
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
            ..Default::default()
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
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "undefine",
            app.domains
                .undefine_domain(pb::UndefineDomainRequest {
                    domain: "no-such-domain".into(),
                    ..Default::default()
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
