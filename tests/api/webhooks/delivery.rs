//! Every event is posted signed, listed as delivered, and a large answer does not
//! hold up the events behind it.

use std::time::Duration;

use virtplane::grpc::pb;

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions,
    events::list_all,
    eventually,
    http_server::TestHttpServer,
    receiver::{SECRET, audit_webhook, body_json, deliveries, header, signed_with},
    unique_name,
};

#[tokio::test]
async fn every_event_is_posted_signed_and_the_deliveries_are_listed() {
    let server = TestHttpServer::start().await;
    let options = TestOptions::new(TEST_DRIVER).webhook(audit_webhook(&server));
    let logs = crate::support::capture_logs();
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let name = unique_name("hooked");
    app.define(&name).await;
    eventually(
        Duration::from_secs(10),
        "the defined event is posted",
        || {
            let name = name.clone();
            let got = server.received();
            async move {
                got.iter()
                    .any(|r| body_json(r)["domain_name"] == name.as_str())
            }
        },
    )
    .await;

    let received = server.received();
    let delivery = received
        .iter()
        .find(|r| body_json(r)["domain_name"] == name.as_str())
        .expect("delivery");
    assert_eq!(delivery.method, "POST");
    assert_eq!(delivery.path, "/hooks/lifecycle");
    assert_eq!(header(delivery, "content-type"), "application/json");
    assert_eq!(
        header(delivery, "x-virtplane-event-type"),
        "lifecycle.defined"
    );
    assert_eq!(header(delivery, "x-virtplane-host"), app.hostname);
    let body = body_json(delivery);
    assert_eq!(body["type"], "defined");
    assert_eq!(
        header(delivery, "x-virtplane-event-id"),
        body["id"].to_string()
    );
    // The receiver's check, with nothing but the shared secret.
    assert!(signed_with(delivery, SECRET), "the signature verifies");
    let mut tampered = delivery.clone();
    tampered.body = bytes::Bytes::from(format!("{} ", body));
    assert!(
        !signed_with(&tampered, SECRET),
        "a changed body does not verify"
    );

    let mut hooks = app.webhooks.clone();
    let listed = hooks
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list webhooks")
        .into_inner()
        .webhooks;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "audit");
    assert_eq!(
        listed[0].url,
        format!("http://{}/hooks/lifecycle", server.addr),
        "no query"
    );
    assert!(listed[0].delivered >= 1);
    let deliveries = deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Delivered)).await;
    let mine = deliveries
        .iter()
        .find(|d| d.domain_name == name)
        .expect("listed");
    assert_eq!((mine.last_status_code, mine.attempts), (200, 1));
    assert_eq!(mine.event_type, "lifecycle.defined");

    let pools = app
        .pools
        .clone()
        .list_pools(pb::ListPoolsRequest {})
        .await
        .expect("pools")
        .into_inner()
        .pools;
    let pool = pools
        .iter()
        .find(|p| p.kind == "http")
        .expect("an http pool");
    assert_eq!(pool.key, format!("http://{}", server.addr));
    assert!(pool.opened >= 1 && pool.requests >= 1, "{pool:?}");

    let unknown = hooks
        .list_webhook_deliveries(pb::ListWebhookDeliveriesRequest {
            webhook: "nope".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown webhook");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    assert!(unknown.message().contains("nope"), "{}", unknown.message());
    let bad_token = hooks
        .list_webhook_deliveries(pb::ListWebhookDeliveriesRequest {
            webhook: "audit".into(),
            page_token: "zz".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad token");
    assert_eq!(bad_token.code(), tonic::Code::InvalidArgument);
    app.stop().await;
    let logs = logs.contents();
    assert!(!logs.contains(SECRET) && !logs.contains("query-secret"));
}

#[tokio::test]
async fn a_2xx_with_a_large_body_is_delivered_once_and_the_events_behind_it_follow() {
    let server = TestHttpServer::start().await;
    server.set_response_body(bytes::Bytes::from(vec![b'x'; 100 * 1024]));
    let options = TestOptions::new(TEST_DRIVER).webhook(audit_webhook(&server));
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let prefix = unique_name("chatty");
    for i in 0..5 {
        app.define(&format!("{prefix}-{i}")).await;
    }
    let client = app.host.clone();
    let wanted = prefix.clone();
    eventually(Duration::from_secs(10), "the defines recorded", || {
        let (mut client, wanted) = (client.clone(), wanted.clone());
        async move {
            client
                .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .is_ok_and(|r| {
                    r.into_inner()
                        .events
                        .iter()
                        .filter(|e| e.domain_name.starts_with(&wanted))
                        .count()
                        == 5
                })
        }
    })
    .await;
    let expected = list_all(&app).await.len();
    eventually(Duration::from_secs(15), "every event posted", || {
        let got = server.received().len();
        async move { got >= expected }
    })
    .await;

    let received = server.received();
    let mut ids: Vec<&str> = received
        .iter()
        .map(|r| header(r, "x-virtplane-event-id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), received.len(), "no event was posted twice");
    assert_eq!(received.len(), expected);
    assert_eq!(
        server.connections(),
        expected,
        "a connection whose answer was left unread is closed, not reused"
    );
    let mut hooks = app.webhooks.clone();
    eventually(
        Duration::from_secs(10),
        "every delivery marked delivered",
        || {
            let mut hooks = hooks.clone();
            async move {
                deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Delivered))
                    .await
                    .len()
                    == expected
            }
        },
    )
    .await;
    assert!(
        deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Pending))
            .await
            .is_empty()
    );
    app.stop().await;
}
