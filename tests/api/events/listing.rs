//! ListLifecycleEvents: filters, pages, and the arguments it refuses.

use tonic::Code;
use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions,
    events::{last_event_id, real, seen, take, watch},
    unique_name,
};

#[tokio::test]
async fn list_lifecycle_events_filters_pages_and_rejects_bad_arguments() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("filters");
    let start = last_event_id(&mut app).await;
    let mut stream = watch(&mut app, Some(start), &name).await;
    app.define(&name).await;
    app.start(&name).await;
    take(&mut stream, 2).await;

    let newest = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("newest first")
        .into_inner();
    assert_eq!(
        seen(&newest.events[0]),
        real(&name, Type::Started, "booted")
    );
    let second = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            domain: name.clone(),
            page_token: newest.next_page_token,
            ..Default::default()
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(seen(&second.events[0]), real(&name, Type::Defined, "added"));

    let only_defined = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            domain: name.clone(),
            types: vec![Type::Defined.into()],
            ..Default::default()
        })
        .await
        .expect("type filter")
        .into_inner();
    assert_eq!(only_defined.events.len(), 1);

    let future = prost_types::Timestamp {
        seconds: 4_000_000_000,
        nanos: 0,
    };
    let none_yet = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            start_time: Some(future),
            ..Default::default()
        })
        .await
        .expect("time filter")
        .into_inner();
    assert!(none_yet.events.is_empty());

    for (what, request) in [
        (
            "bad token",
            pb::ListLifecycleEventsRequest {
                page_token: "zz".into(),
                ..Default::default()
            },
        ),
        (
            "bad type",
            pb::ListLifecycleEventsRequest {
                types: vec![77],
                ..Default::default()
            },
        ),
        (
            "negative size",
            pb::ListLifecycleEventsRequest {
                page_size: -5,
                ..Default::default()
            },
        ),
        (
            "empty range",
            pb::ListLifecycleEventsRequest {
                start_time: Some(future),
                end_time: Some(future),
                ..Default::default()
            },
        ),
    ] {
        let err = app
            .host
            .list_lifecycle_events(request)
            .await
            .expect_err(what);
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "{what}: {}",
            err.message()
        );
    }
    let bad_watch = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(-1),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect_err("negative after_id");
    assert_eq!(bad_watch.code(), Code::InvalidArgument);
}
