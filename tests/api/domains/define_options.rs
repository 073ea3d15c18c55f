//! Creating without clobbering (`create_only`) and removing in one call
//! (`allow_missing`, and undefine flags for what libvirt would otherwise keep).

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, fixtures::domain_xml, unique_name};

#[tokio::test]
async fn create_only_refuses_a_taken_name_or_uuid_and_leaves_the_domain_alone() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("exists");
    let first = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(&name),
            create_only: true,
            ..Default::default()
        })
        .await
        .expect("a new domain is created")
        .into_inner();

    let bigger = domain_xml(&name).replace("131072", "262144");
    let by_name = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: bigger.clone(),
            create_only: true,
            ..Default::default()
        })
        .await
        .expect_err("the name is taken");
    assert_eq!(by_name.code(), Code::AlreadyExists);
    assert!(
        by_name.message().contains(&first.uuid),
        "{}",
        by_name.message()
    );

    let other = unique_name("other");
    let same_uuid =
        domain_xml(&other).replace("<name>", &format!("<uuid>{}</uuid><name>", first.uuid));
    let by_uuid = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: same_uuid,
            create_only: true,
            ..Default::default()
        })
        .await
        .expect_err("the UUID is taken");
    assert_eq!(by_uuid.code(), Code::AlreadyExists);
    assert!(by_uuid.message().contains(&name), "{}", by_uuid.message());

    let unchanged = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(unchanged.max_memory_kib, 131_072);

    let replaced = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: bigger.replace("<name>", &format!("<uuid>{}</uuid><name>", first.uuid)),
            ..Default::default()
        })
        .await
        .expect("without create_only the definition is replaced")
        .into_inner();
    assert_eq!(replaced.max_memory_kib, 262_144);
    app.stop().await;
}

#[tokio::test]
async fn undefine_allows_a_missing_domain_and_removes_snapshots_when_asked() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let absent = app
        .domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: unique_name("gone"),
            ..Default::default()
        })
        .await
        .expect_err("without allow_missing");
    assert_eq!(absent.code(), Code::NotFound);
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: unique_name("gone"),
            allow_missing: true,
            ..Default::default()
        })
        .await
        .expect("allow_missing: already gone is fine");

    let name = unique_name("with-snapshots");
    app.define(&name).await;
    app.snapshots
        .create_snapshot(pb::CreateSnapshotRequest {
            domain: name.clone(),
            name: "s1".into(),
            ..Default::default()
        })
        .await
        .expect("snapshot");
    let kept = app
        .domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("libvirt keeps a domain with snapshots");
    assert_eq!(kept.code(), Code::FailedPrecondition);
    assert!(kept.message().contains("snapshot"), "{}", kept.message());
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            remove_snapshots: true,
            ..Default::default()
        })
        .await
        .expect("undefine with its snapshots");
    let gone = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name,
            ..Default::default()
        })
        .await
        .expect_err("undefined");
    assert_eq!(gone.code(), Code::NotFound);
    app.stop().await;
}
