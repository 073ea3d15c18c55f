//! Retries: a receiver down across a service restart gets every event once in order;
//! a 4xx is permanent, 408, 429 and 5xx are retried, on SQLite and PostgreSQL.

use std::{collections::BTreeMap, time::Duration};

use virtplane::grpc::pb;

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions,
    events::list_all,
    eventually,
    http_server::TestHttpServer,
    postgres::ScratchDatabase,
    receiver::{audit_webhook, body_json, deduplicated, deliveries, header},
    unique_name,
};

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_once_in_order_across_a_restart() {
    let mut server = TestHttpServer::start().await;
    server.stop();
    let options = TestOptions::new(TEST_DRIVER).webhook(audit_webhook(&server).idempotent());
    let mut first = TestApp::spawn(options.clone()).await;
    first.settled().await;
    let names: Vec<String> = (0..3).map(|i| unique_name(&format!("down-{i}"))).collect();
    for name in &names {
        first.define(name).await;
        first.start(name).await;
    }
    let mut hooks = first.webhooks.clone();
    eventually(
        Duration::from_secs(10),
        "deliveries wait with an error",
        || {
            let mut hooks = hooks.clone();
            async move {
                let listed =
                    deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Pending)).await;
                listed.len() >= 6 && listed.iter().any(|d| !d.last_error.is_empty())
            }
        },
    )
    .await;
    let before_restart = list_all(&first).await;
    let scratch = first.scratch.clone();
    first.stop().await;

    // The service restarts while the receiver is still down, then the receiver comes
    // back answering 503 for a while, then 200.
    let mut second = TestApp::spawn_in(options, &scratch).await;
    second.settled().await;
    let late = unique_name("late");
    second.define(&late).await;
    server.set_status(503);
    server.restart().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.set_status(200);
    let expected: Vec<i64> = list_all(&second).await.iter().map(|e| e.id).collect();
    assert!(expected.len() > before_restart.len());
    eventually(Duration::from_secs(20), "every event delivered", || {
        let got = server.received();
        let expected = expected.clone();
        async move {
            let ids: std::collections::HashSet<i64> = got
                .iter()
                .filter(|r| r.headers.contains_key("x-virtplane-event-id"))
                .filter_map(|r| body_json(r)["id"].as_i64())
                .collect();
            expected.iter().all(|id| ids.contains(id))
        }
    })
    .await;
    let received = server.received();
    let unique = deduplicated(&received);
    let ids: Vec<i64> = unique.iter().filter_map(|b| b["id"].as_i64()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "first copies arrive in event order");
    assert_eq!(
        ids, expected,
        "every stored event exactly once after deduplication"
    );
    // Per domain the order matches the stored order too (defined before started).
    let mut per_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for body in &unique {
        per_domain
            .entry(body["domain_name"].as_str().unwrap_or_default().to_owned())
            .or_default()
            .push(body["type"].as_str().unwrap_or_default().to_owned());
    }
    for name in &names {
        assert_eq!(per_domain[name][..2], ["defined", "started"], "{name}");
    }
    let listed = second
        .webhooks
        .clone()
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list")
        .into_inner()
        .webhooks;
    assert_eq!(listed[0].pending, 0);
    assert_eq!(listed[0].failed, 0);
    hooks = second.webhooks.clone();
    let retried = deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Delivered)).await;
    assert!(
        retried.iter().any(|d| d.attempts > 1),
        "retries are counted"
    );
}

#[tokio::test]
async fn a_4xx_is_a_permanent_failure_while_408_429_and_5xx_are_retried() {
    permanent_and_transient_failures(None).await;
}

#[tokio::test]
async fn a_4xx_is_a_permanent_failure_while_408_429_and_5xx_are_retried_on_postgres() {
    let db = ScratchDatabase::create().await;
    permanent_and_transient_failures(Some(db.url())).await;
    db.drop_database().await;
}

async fn permanent_and_transient_failures(database: Option<String>) {
    let server = TestHttpServer::start().await;
    let mut options = TestOptions::new(TEST_DRIVER);
    if let Some(url) = database {
        options = options.database(url);
    }
    options = options.webhook(audit_webhook(&server).types(&["defined"]));
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let mut hooks = app.webhooks.clone();

    server.set_status(422);
    let refused = unique_name("refused");
    app.define(&refused).await;
    let failed = {
        let mut found = None;
        for _ in 0..200 {
            let deliveries = deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Failed)).await;
            if let Some(d) = deliveries.into_iter().find(|d| d.domain_name == refused) {
                found = Some(d);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        found.expect("a failed delivery")
    };
    assert_eq!((failed.last_status_code, failed.attempts), (422, 1));
    assert!(failed.last_error.contains("422"), "{}", failed.last_error);
    assert!(failed.finished_at.is_some());

    for status in [429, 408, 500] {
        server.set_status(status);
        let name = unique_name(&format!("retried-{status}"));
        app.define(&name).await;
        eventually(Duration::from_secs(10), "a retried attempt", || {
            let got = server.received();
            let name = name.clone();
            async move {
                got.iter()
                    .filter(|r| body_json(r)["domain_name"] == name.as_str())
                    .count()
                    >= 2
            }
        })
        .await;
        server.set_status(200);
        eventually(Duration::from_secs(10), "delivered once accepted", || {
            let mut hooks = hooks.clone();
            let name = name.clone();
            async move {
                deliveries(&mut hooks, "audit", Some(pb::DeliveryState::Delivered))
                    .await
                    .iter()
                    .any(|d| d.domain_name == name && d.attempts >= 2)
            }
        })
        .await;
    }
    // The type filter: only "defined" events were ever sent.
    assert!(
        server
            .received()
            .iter()
            .all(|r| header(r, "x-virtplane-event-type") == "lifecycle.defined")
    );
    let listed = hooks
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list")
        .into_inner()
        .webhooks;
    assert_eq!(listed[0].types, ["defined"]);
    assert!(listed[0].failed >= 1);
    app.stop().await;
}
