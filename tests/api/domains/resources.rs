//! Resizing a domain on the test driver: in its definition and live, and each refusal
//! naming the limit or the state that stands in the way.

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

fn resize(domain: &str) -> pb::SetDomainResourcesRequest {
    pb::SetDomainResourcesRequest {
        domain: domain.into(),
        ..Default::default()
    }
}

async fn refused(app: &mut TestApp, request: pb::SetDomainResourcesRequest) -> tonic::Status {
    app.domains
        .set_domain_resources(request)
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_shut_off_domain_is_resized_in_its_definition_within_its_maximums() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("resize");
    app.define(&name).await; // 2 vCPUs, 131072 KiB

    let smaller = app
        .domains
        .set_domain_resources(pb::SetDomainResourcesRequest {
            vcpus: Some(1),
            memory_kib: Some(65_536),
            ..resize(&name)
        })
        .await
        .expect("resize")
        .into_inner();
    assert_eq!((smaller.vcpus, smaller.memory_kib), (1, 65_536));

    let bigger = app
        .domains
        .set_domain_resources(pb::SetDomainResourcesRequest {
            max_memory_kib: Some(262_144),
            memory_kib: Some(200_000),
            config: true,
            ..resize(&name)
        })
        .await
        .expect("raise the maximum and the memory together")
        .into_inner();
    assert_eq!(
        (bigger.max_memory_kib, bigger.memory_kib),
        (262_144, 200_000)
    );

    let too_many = refused(
        &mut app,
        pb::SetDomainResourcesRequest {
            vcpus: Some(3),
            ..resize(&name)
        },
    )
    .await;
    assert_eq!(too_many.code(), Code::OutOfRange);
    assert!(
        too_many.message().contains("maximum of 2 vCPUs"),
        "{}",
        too_many.message()
    );

    let too_much = refused(
        &mut app,
        pb::SetDomainResourcesRequest {
            memory_kib: Some(300_000),
            config: true,
            ..resize(&name)
        },
    )
    .await;
    assert_eq!(too_much.code(), Code::OutOfRange);
    assert!(
        too_much.message().contains("262144 KiB"),
        "{}",
        too_much.message()
    );

    let not_running = refused(
        &mut app,
        pb::SetDomainResourcesRequest {
            vcpus: Some(1),
            live: true,
            ..resize(&name)
        },
    )
    .await;
    assert_eq!(not_running.code(), Code::FailedPrecondition);
    assert!(
        not_running
            .message()
            .contains("`live` needs a running domain"),
        "{}",
        not_running.message()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_running_domain_is_resized_live_and_its_maximum_memory_only_in_its_definition() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("resize-live");
    app.define(&name).await;
    app.start(&name).await;

    let live = app
        .domains
        .set_domain_resources(pb::SetDomainResourcesRequest {
            vcpus: Some(1),
            memory_kib: Some(100_000),
            live: true,
            ..resize(&name)
        })
        .await
        .expect("live resize")
        .into_inner();
    assert_eq!((live.vcpus, live.memory_kib), (1, 100_000));

    let above = refused(
        &mut app,
        pb::SetDomainResourcesRequest {
            memory_kib: Some(131_073),
            live: true,
            ..resize(&name)
        },
    )
    .await;
    assert_eq!(above.code(), Code::OutOfRange);
    assert!(
        above.message().contains("maximum memory of 131072 KiB"),
        "{}",
        above.message()
    );

    let max_live = refused(
        &mut app,
        pb::SetDomainResourcesRequest {
            max_memory_kib: Some(262_144),
            live: true,
            config: true,
            ..resize(&name)
        },
    )
    .await;
    assert_eq!(max_live.code(), Code::FailedPrecondition);
    assert!(
        max_live.message().contains("`config` only"),
        "{}",
        max_live.message()
    );

    let both = app
        .domains
        .set_domain_resources(pb::SetDomainResourcesRequest {
            vcpus: Some(2),
            live: true,
            config: true,
            ..resize(&name)
        })
        .await
        .expect("live and config")
        .into_inner();
    assert_eq!(both.vcpus, 2);
    app.stop().await;
}

#[tokio::test]
async fn a_resize_without_values_or_with_zeros_or_for_no_domain_is_refused() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("resize-bad");
    app.define(&name).await;
    for (request, code, says) in [
        (resize(&name), Code::InvalidArgument, "nothing to change"),
        (
            pb::SetDomainResourcesRequest {
                vcpus: Some(0),
                ..resize(&name)
            },
            Code::InvalidArgument,
            "`vcpus` must be at least 1",
        ),
        (
            pb::SetDomainResourcesRequest {
                memory_kib: Some(300_000),
                max_memory_kib: Some(200_000),
                ..resize(&name)
            },
            Code::InvalidArgument,
            "above the requested `max_memory_kib`",
        ),
        (
            pb::SetDomainResourcesRequest {
                vcpus: Some(1),
                ..resize(&unique_name("nowhere"))
            },
            Code::NotFound,
            "not found",
        ),
    ] {
        let status = refused(&mut app, request).await;
        assert_eq!(status.code(), code, "{}", status.message());
        assert!(status.message().contains(says), "{}", status.message());
    }
    app.stop().await;
}
