//! Watches under load: a resumed watch misses nothing, a slow watcher is cut off
//! without stalling the others.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Code;
use virtplane::grpc::pb::{self};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, domain_xml,
    events::{last_event_id, list_after, take, watch},
    fixtures::churn,
    unique_name,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_watch_gets_exactly_the_missed_events_then_live_ones_under_a_burst() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let prefix = unique_name("burst");
    let start = last_event_id(&mut app).await;
    let mut first = watch(&mut app, Some(start), "").await;
    let direct = virt::connect::Connect::open(Some(TEST_DRIVER)).expect("direct connection");
    let churn = |conn: &virt::connect::Connect, from: usize, to: usize| {
        for i in from..to {
            let dom = conn
                .define_domain_xml(&domain_xml(&format!("{prefix}-{i}")))
                .expect("define");
            dom.undefine().expect("undefine");
        }
    };

    churn(&direct, 0, 10);
    let before_disconnect = take(&mut first, 7).await;
    drop(first);
    let resume_from = before_disconnect.last().expect("events").id;
    churn(&direct, 10, 60);
    let burst = {
        let direct = direct.clone();
        let prefix_len = 60;
        std::thread::spawn(move || {
            for i in prefix_len..prefix_len + 100 {
                let dom = direct
                    .define_domain_xml(&domain_xml(&format!("late-{i}-{}", std::process::id())))
                    .expect("define");
                dom.undefine().expect("undefine");
            }
        })
    };
    let mut resumed = watch(&mut app, Some(resume_from), "").await;
    burst.join().expect("burst");
    // 10 + 50 + 100 domains, two events each, minus the 7 seen before.
    let total_after_start = 2 * 160;
    let rest = take(&mut resumed, total_after_start - 7).await;

    let ids: Vec<i64> = before_disconnect
        .iter()
        .chain(&rest)
        .map(|e| e.id)
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "no duplicate, in order"
    );
    let stored: Vec<i64> = list_after(&mut app, start, "")
        .await
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids, stored,
        "no gap: every stored event was delivered exactly once"
    );
    drop(direct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_watcher_is_cut_off_with_resource_exhausted_without_stalling_others() {
    let options = TestOptions::new(TEST_DRIVER).watch_buffer(1024);
    let mut app = TestApp::spawn(options).await;
    let start = last_event_id(&mut app).await;
    // A client that never reads, with HTTP/2's smallest windows, so the server's
    // buffers for it fill (tonic's default windows would absorb megabytes).
    let tight = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .expect("uri")
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .expect("connect");
    let mut slow = pb::host_service_client::HostServiceClient::new(tight)
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(start),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect("slow watch")
        .into_inner();
    let mut fast = watch(&mut app, Some(start), "").await;
    // Far more than the slow watcher's buffers hold: its ring, its stream queue and
    // the HTTP/2 window.
    let count = 4000;
    let fast_reader = tokio::spawn(async move { take(&mut fast, 2 * count).await.len() });

    churn(TEST_DRIVER, &unique_name("slow"), count).await;

    assert_eq!(
        fast_reader.await.expect("fast watcher"),
        2 * count,
        "the fast watcher got everything"
    );
    let mut received = 0;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(20), slow.next()).await {
            Ok(Some(Ok(_))) => received += 1,
            Ok(Some(Err(status))) => break status,
            other => panic!("the slow watcher was not cut off ({received} events): {other:?}"),
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("after_id"),
        "{}",
        status.message()
    );
}
