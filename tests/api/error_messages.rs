//! Error codes and messages at the edges: oversize requests, missing fields, and
//! internal failures that must not leak libvirt's raw text.

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, capture_logs};

#[tokio::test]
async fn an_internal_libvirt_error_answers_an_id_that_finds_libvirts_text_in_the_log() {
    let logs = capture_logs();
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    // The built-in domain's name with another UUID: libvirt's generic
    // "operation failed", which names the existing domain's UUID.
    let xml = "<domain type='test'><name>test</name>\
               <uuid>11111111-2222-3333-4444-555555555555</uuid>\
               <memory unit='KiB'>131072</memory><vcpu>2</vcpu>\
               <os><type arch='x86_64'>hvm</type></os></domain>";
    let status = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: xml.into(),
            ..Default::default()
        })
        .await
        .expect_err("a conflicting definition");
    assert_eq!(status.code(), Code::Internal);
    assert!(
        !status.message().contains("already exists"),
        "libvirt's text reached the client: {}",
        status.message()
    );
    let error_id = status
        .message()
        .split("error_id=")
        .nth(1)
        .expect("an error id")
        .to_owned();
    let log = logs.contents();
    let line = log
        .lines()
        .find(|line| line.contains(&error_id))
        .expect("the id is in the log");
    assert!(line.contains("already exists"), "{line}");
    app.stop().await;
}

#[tokio::test]
async fn a_request_over_the_size_limit_is_resource_exhausted() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    // tonic's default limit is 4 MiB.
    let huge = "x".repeat(5 * 1024 * 1024);
    let status = app
        .domains
        .define_domain(pb::DefineDomainRequest {
            xml: huge,
            ..Default::default()
        })
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    app.stop().await;
}

#[tokio::test]
async fn publishing_without_a_broker_is_an_invalid_argument_naming_the_field() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let mut publish = app.publish.clone();
    let status = publish
        .publish(pb::PublishRequest {
            exchange: "amq.topic".into(),
            routing_key: "x".into(),
            ..Default::default()
        })
        .await
        .expect_err("no broker");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("`broker` is required"),
        "{}",
        status.message()
    );
    let status = publish
        .publish_batch(pb::PublishBatchRequest {
            request_id: String::new(),
            broker: String::new(),
            messages: vec![pb::OutgoingMessage {
                exchange: "amq.topic".into(),
                ..Default::default()
            }],
        })
        .await
        .expect_err("no broker");
    assert_eq!(status.code(), Code::InvalidArgument);
    app.stop().await;
}
