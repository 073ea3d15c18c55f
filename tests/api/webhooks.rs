//! Webhooks: lifecycle events POSTed as signed JSON to a real HTTP server on loopback,
//! at least once through a receiver outage and a restart of the service, 4xx recorded
//! as permanent failures visible over gRPC.

use std::{collections::BTreeMap, time::Duration};

use virtplane::grpc::pb;

use crate::support::{
    Scratch, TEST_DRIVER, TestApp, TestOptions, Webhook,
    events::list_all,
    eventually,
    http_server::TestHttpServer,
    postgres::ScratchDatabase,
    receiver::{SECRET, audit_webhook, body_json, deduplicated, deliveries, header, signed_with},
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

#[tokio::test]
async fn https_webhooks_trust_the_configured_ca_and_refuse_an_unknown_one() {
    let dir = Scratch::create();
    let pki = crate::support::pki::Pki::new(dir.path(), "hooks");
    let server = TestHttpServer::start_tls(&pki.server("hooks-server")).await;
    let trusted = audit_webhook(&server).ca_file(pki.ca_path());
    // The same receiver under another name (so another pool: trust is per host pool)
    // without the CA: the system's trust store does not know it.
    let untrusted = Webhook::new(
        "untrusted",
        format!("https://127.0.0.1:{}/untrusted", server.addr.port()),
    )
    .secret("s")
    .retry_initial_ms(50)
    .retry_max_ms(100);
    let options = TestOptions::new(TEST_DRIVER)
        .webhook(trusted)
        .webhook(untrusted);
    let mut app = TestApp::spawn_in(options, &dir).await;
    app.settled().await;
    let name = unique_name("tls");
    app.define(&name).await;
    eventually(Duration::from_secs(10), "delivered over https", || {
        let got = server.received();
        let name = name.clone();
        async move {
            got.iter()
                .any(|r| body_json(r)["domain_name"] == name.as_str())
        }
    })
    .await;
    let mut hooks = app.webhooks.clone();
    eventually(
        Duration::from_secs(10),
        "the untrusted webhook reports why",
        || {
            let mut hooks = hooks.clone();
            async move {
                deliveries(&mut hooks, "untrusted", None)
                    .await
                    .iter()
                    .any(|d| {
                        d.last_error.contains("TLS") && d.state == pb::DeliveryState::Pending as i32
                    })
            }
        },
    )
    .await;
    assert!(!server.received().iter().any(|r| r.path == "/untrusted"));
    let listed = hooks
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list")
        .into_inner()
        .webhooks;
    let count = |name: &str, field: fn(&pb::Webhook) -> u64| {
        listed
            .iter()
            .find(|w| w.name == name)
            .map(field)
            .expect(name)
    };
    assert!(count("audit", |w| w.delivered) >= 1);
    assert!(count("untrusted", |w| w.pending) >= 1);
    assert_eq!(count("untrusted", |w| w.delivered), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_secret_file_signs_the_next_deliveries() {
    let server = TestHttpServer::start().await;
    let dir = Scratch::create();
    let secret_file = dir.join("webhook-secret");
    std::fs::write(&secret_file, "first-secret\n").expect("secret");
    let options = TestOptions::new(TEST_DRIVER)
        .webhook(Webhook::new("rotating", server.url("/hook")).secret_file(&secret_file));
    let mut app = TestApp::spawn_in(options, &dir).await;
    app.settled().await;
    let delivered = |name: String| {
        let server = &server;
        async move {
            eventually(Duration::from_secs(10), "the event is posted", || {
                let got = server.received();
                let name = name.clone();
                async move {
                    got.iter()
                        .any(|r| body_json(r)["domain_name"] == name.as_str())
                }
            })
            .await;
            server
                .received()
                .into_iter()
                .find(|r| body_json(r)["domain_name"] == name.as_str())
                .expect("delivery")
        }
    };
    let before = unique_name("before");
    app.define(&before).await;
    assert!(signed_with(&delivered(before).await, "first-secret"));

    std::fs::write(&secret_file, "second-secret\n").expect("rotate");
    let after = unique_name("after");
    app.define(&after).await;
    let rotated = delivered(after).await;
    assert!(signed_with(&rotated, "second-secret"));
    assert!(!signed_with(&rotated, "first-secret"));
    app.stop().await;
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
