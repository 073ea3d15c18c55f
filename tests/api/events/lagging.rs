//! A watcher that falls behind is told where to resume: never from the beginning of
//! the host's history when it was sent nothing.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Code;
use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{TestApp, TestOptions, libvirtd::Libvirtd, unique_name};

// One runtime thread: the recorder publishes a reconciliation's events in one go, so
// the watcher's task cannot run in between and surely falls behind.
#[tokio::test]
async fn a_watcher_that_lags_before_being_sent_anything_resumes_from_its_start_not_from_zero() {
    let mut daemon = Libvirtd::start();
    let options = TestOptions::new(daemon.uri()).watch_buffer(64);
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let prefix = unique_name("lag");
    for i in 0..100 {
        app.define(&format!("{prefix}-{i}")).await;
    }
    // Every define stored, then the newest id as the watcher will find it.
    let newest = loop {
        let events = app
            .host
            .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                page_size: 1,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
            .events;
        if events
            .first()
            .is_some_and(|e| e.domain_name == format!("{prefix}-99"))
        {
            break events[0].id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Filtered on a domain that never changes: this watcher is sent nothing.
    let mut watcher = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: None,
            domain: unique_name("quiet"),
            hostname: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    // Let the watcher subscribe before the burst.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The restarted daemon has none of the 100 domains: one reconciliation records
    // 100 synthetic UNDEFINED events at once, more than the watcher's buffer.
    daemon.restart();
    let status = match tokio::time::timeout(Duration::from_secs(20), watcher.next()).await {
        Ok(Some(Err(status))) => status,
        other => panic!("the watcher was not cut off: {other:?}"),
    };
    assert_eq!(status.code(), Code::ResourceExhausted);
    let hint: i64 = status
        .message()
        .rsplit("after_id = ")
        .next()
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no resume hint in {:?}", status.message()));
    assert_eq!(hint, newest, "resume from where it subscribed");

    // Resuming there replays the burst it missed, and none of the history before it.
    let mut resumed = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(hint),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect("resume")
        .into_inner();
    let mut undefined = 0;
    while undefined < 100 {
        let event = tokio::time::timeout(Duration::from_secs(20), resumed.next())
            .await
            .expect("the missed events arrive")
            .expect("stream open")
            .expect("event");
        assert!(event.id > hint);
        if event.r#type == i32::from(Type::Undefined) && event.domain_name.starts_with(&prefix) {
            undefined += 1;
        }
    }
    app.stop().await;
}
