//! PublishService and PoolService against the real RabbitMQ on this machine.

use std::{collections::HashMap, time::Duration};

use lapin::types::AMQPValue;
use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{
    Broker, TEST_DRIVER, TestApp, TestOptions,
    amqp::{TestQueue, broker_host, connect, exchange_with_queue, guest_url},
    rabbitmq::{MemoryAlarm, rabbitmqctl},
    unique_name, within,
};

/// The app publishing through `broker`.
async fn app_with(broker: Broker) -> TestApp {
    TestApp::spawn(TestOptions::new(TEST_DRIVER).broker(broker)).await
}

const PASSWORD: &str = "Vp-t3st-S3cret";
const USER: &str = "virtplane_test";

/// A broker user whose password is distinctive enough to search logs for.
fn ensure_test_user() {
    let _ = rabbitmqctl(&["add_user", USER, PASSWORD]);
    let _ = rabbitmqctl(&["change_password", USER, PASSWORD]);
    let out = rabbitmqctl(&["set_permissions", "-p", "/", USER, ".*", ".*", ".*"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn request(queue: &str, body: &[u8]) -> pb::PublishRequest {
    pb::PublishRequest {
        broker: "main".into(),
        exchange: "amq.direct".into(),
        routing_key: queue.into(),
        body: body.to_vec(),
        ..Default::default()
    }
}

#[tokio::test]
async fn publish_and_publish_batch_land_intact_and_persistent() {
    let queue = TestQueue::new().await;
    let app = app_with(Broker::new("main", guest_url())).await;
    let mut publish = app.publish.clone();

    publish
        .publish(pb::PublishRequest {
            headers: HashMap::from([("x-origin".to_owned(), "test".to_owned())]),
            content_type: "application/json".into(),
            message_id: "m-1".into(),
            correlation_id: "c-1".into(),
            ..request(&queue.name, b"{\"n\":1}")
        })
        .await
        .expect("publish");
    let batch = publish
        .publish_batch(pb::PublishBatchRequest {
            broker: "main".into(),
            messages: (0..50)
                .map(|i| pb::OutgoingMessage {
                    exchange: "amq.direct".into(),
                    routing_key: queue.name.clone(),
                    body: format!("batch-{i}").into_bytes(),
                    transient: i == 49,
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .expect("batch")
        .into_inner();
    assert_eq!(batch.results.len(), 50);
    assert!(
        batch
            .results
            .iter()
            .all(|r| r.code == 0 && r.error.is_empty())
    );

    let messages = queue.drain().await;
    assert_eq!(messages.len(), 51);
    let (body, properties) = &messages[0];
    assert_eq!(body, b"{\"n\":1}");
    assert_eq!(
        properties.delivery_mode(),
        &Some(2),
        "persistent by default"
    );
    assert_eq!(
        properties.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(
        properties.message_id().as_ref().map(|s| s.as_str()),
        Some("m-1")
    );
    assert_eq!(
        properties.correlation_id().as_ref().map(|s| s.as_str()),
        Some("c-1")
    );
    let header = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-origin").cloned());
    assert!(matches!(header, Some(AMQPValue::LongString(s)) if s.to_string() == "test"));
    let bodies: Vec<String> = messages[1..]
        .iter()
        .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert_eq!(
        bodies,
        (0..50).map(|i| format!("batch-{i}")).collect::<Vec<_>>(),
        "in order"
    );
    assert_eq!(
        messages[50].1.delivery_mode(),
        &Some(1),
        "transient on request"
    );
    queue.delete().await;
}

#[tokio::test]
async fn clients_get_clear_errors_for_bad_requests_and_refused_messages() {
    let app = app_with(Broker::new("main", guest_url()).max_body_bytes(1024)).await;
    let mut publish = app.publish.clone();
    let unknown = publish
        .publish(pb::PublishRequest {
            broker: "nope".into(),
            ..request("q", b"x")
        })
        .await
        .expect_err("unknown broker");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("nope"));

    let cases = [
        (
            "no destination",
            pb::PublishRequest {
                exchange: String::new(),
                routing_key: String::new(),
                ..request("q", b"x")
            },
        ),
        ("oversize", request("q", &[0; 2048])),
        (
            "bad header",
            pb::PublishRequest {
                headers: HashMap::from([("bad name".into(), "v".into())]),
                ..request("q", b"x")
            },
        ),
    ];
    for (what, req) in cases {
        let err = publish.publish(req).await.expect_err(what);
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "{what}: {}",
            err.message()
        );
    }

    let unroutable = publish
        .publish(pb::PublishRequest {
            mandatory: true,
            ..request(&unique_name("nobody"), b"x")
        })
        .await
        .expect_err("unroutable");
    assert_eq!(
        unroutable.code(),
        Code::FailedPrecondition,
        "{}",
        unroutable.message()
    );
    assert!(
        unroutable.message().contains("unroutable"),
        "{}",
        unroutable.message()
    );

    let missing = publish
        .publish(pb::PublishRequest {
            exchange: unique_name("no-exchange"),
            ..request("q", b"x")
        })
        .await
        .expect_err("missing exchange");
    assert_eq!(missing.code(), Code::NotFound, "{}", missing.message());

    // The channel the broker closed is not reused: publishing works on.
    let queue = TestQueue::new().await;
    publish
        .publish(request(&queue.name, b"after"))
        .await
        .expect("still works");
    assert_eq!(queue.drain().await.len(), 1);
    queue.delete().await;
}

#[tokio::test]
async fn equal_parameters_share_one_pool_and_the_password_appears_nowhere() {
    ensure_test_user();
    let logs = crate::support::capture_logs();
    let host = broker_host();
    let options = TestOptions::new(TEST_DRIVER)
        .broker(Broker::new(
            "main",
            format!("amqp://{USER}:{PASSWORD}@{host}:5672/%2f"),
        ))
        .broker(Broker::new(
            "alias",
            format!("amqp://{USER}:{PASSWORD}@{}", host.to_uppercase()),
        ))
        .broker(
            Broker::new("down", format!("amqp://{USER}:{PASSWORD}@127.0.0.1:1"))
                .max_retries(1)
                .interval_start_ms(10),
        );
    let app = TestApp::spawn(options).await;
    let (mut publish, mut pools) = (app.publish.clone(), app.pools.clone());
    let queue = TestQueue::new().await;

    publish
        .publish(request(&queue.name, b"1"))
        .await
        .expect("main");
    publish
        .publish(pb::PublishRequest {
            broker: "alias".into(),
            ..request(&queue.name, b"2")
        })
        .await
        .expect("alias");
    let down = publish
        .publish(pb::PublishRequest {
            broker: "down".into(),
            ..request(&queue.name, b"3")
        })
        .await
        .expect_err("nothing listens on port 1");
    assert_eq!(down.code(), Code::Unavailable);

    let listed = pools
        .list_pools(pb::ListPoolsRequest {})
        .await
        .expect("pools")
        .into_inner();
    let reachable: Vec<&pb::Pool> = listed
        .pools
        .iter()
        .filter(|p| p.key.contains(":5672"))
        .collect();
    assert_eq!(
        reachable.len(),
        1,
        "main and alias share one pool: {listed:?}"
    );
    assert_eq!(reachable[0].kind, "amqp");
    assert_eq!(
        reachable[0].key,
        format!("amqp://{USER}:***@{host}:5672/%2f")
    );
    assert_eq!(reachable[0].requests, 2);
    assert_eq!(reachable[0].opened, 1);
    let brokers = publish
        .list_brokers(pb::ListBrokersRequest {})
        .await
        .expect("brokers")
        .into_inner();
    assert_eq!(brokers.brokers.len(), 3);

    let everything = format!(
        "{listed:?} {brokers:?} {} {}",
        down.message(),
        logs.contents()
    );
    assert!(logs.contents().contains(USER), "the logs were captured");
    assert!(
        !everything.contains(PASSWORD),
        "the password leaked: {everything}"
    );
    assert_eq!(queue.drain().await.len(), 2);
    queue.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_resource_exhausted_and_recovers() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .max_connections(1)
            .acquire_timeout_ms(20),
    )
    .await;
    let (publish, mut pools) = (app.publish.clone(), app.pools.clone());
    let messages: Vec<pb::OutgoingMessage> = (0..3000)
        .map(|i| pb::OutgoingMessage {
            exchange: "amq.direct".into(),
            routing_key: queue.name.clone(),
            body: vec![b'x'; 1024 + i % 7],
            ..Default::default()
        })
        .collect();
    // Open the pool's one connection first: opening it takes longer than the 20 ms a
    // checkout may wait.
    let mut warm = publish.clone();
    warm.publish(request(&queue.name, b"warm-up"))
        .await
        .expect("warm-up");
    let mut batch_client = publish.clone();
    let batch = tokio::spawn(async move {
        batch_client
            .publish_batch(pb::PublishBatchRequest {
                broker: "main".into(),
                messages,
            })
            .await
    });
    let mut exhausted = 0;
    // Keep trying while the batch runs: once it holds the only connection, a single
    // publish waits 20 ms and gives up.
    while !batch.is_finished() {
        let mut client = publish.clone();
        match client.publish(request(&queue.name, b"single")).await {
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(
                    status.message().contains("exhausted"),
                    "{}",
                    status.message()
                );
                exhausted += 1;
                break;
            }
            Err(status) => panic!("unexpected: {status:?}"),
            Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    let batch = batch.await.expect("task").expect("batch").into_inner();
    let failed: Vec<&pb::PublishResult> = batch.results.iter().filter(|r| r.code != 0).collect();
    assert!(
        failed.is_empty(),
        "{} batch messages failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(exhausted, 1, "a publish found the only connection busy");

    let mut client = publish.clone();
    client
        .publish(request(&queue.name, b"after"))
        .await
        .expect("the pool recovered");
    let pool = &pools
        .list_pools(pb::ListPoolsRequest {})
        .await
        .expect("pools")
        .into_inner()
        .pools[0];
    assert_eq!((pool.max_size, pool.in_use, pool.waiters), (1, 0, 0));
    queue.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_every_broker_connection_loses_no_confirmed_message() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .max_connections(4)
            .max_retries(5)
            .interval_start_ms(50)
            .interval_step_ms(100),
    )
    .await;
    let publish = app.publish.clone();
    let load = (0..4).map(|worker| {
        let mut client = publish.clone();
        let queue = queue.name.clone();
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0, Vec::new());
            for i in 0..150 {
                match client
                    .publish(request(&queue, format!("{worker}-{i}").as_bytes()))
                    .await
                {
                    Ok(_) => ok += 1,
                    Err(status) => failed.push(status),
                }
            }
            (ok, failed)
        })
    });
    let load: Vec<_> = load.collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = tokio::task::spawn_blocking(|| {
        rabbitmqctl(&["close_all_connections", "test: broker-side kill"])
    })
    .await
    .expect("rabbitmqctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut confirmed = 0;
    for worker in load {
        let (ok, failed) = worker.await.expect("worker");
        confirmed += ok;
        for status in failed {
            assert_eq!(
                status.code(),
                Code::Unavailable,
                "a clear error: {status:?}"
            );
        }
    }
    // The test's own reading connection was closed too: read with a new one.
    let reader = TestQueue::reopen(&queue.name).await;
    let stored = reader.drain().await.len();
    assert!(
        stored >= confirmed,
        "{confirmed} publishes returned OK but only {stored} are in the queue"
    );
    assert!(confirmed > 0);

    let mut client = publish.clone();
    client
        .publish(request(&queue.name, b"after"))
        .await
        .expect("publishing works again");
    reader.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_during_load_loses_no_confirmed_message() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .max_retries(4)
            .interval_start_ms(100)
            .interval_step_ms(200)
            .interval_max_ms(800),
    )
    .await;
    let publish = app.publish.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..2)
        .map(|worker| {
            let mut client = publish.clone();
            let queue = queue.name.clone();
            let stop = std::sync::Arc::clone(&stop);
            tokio::spawn(async move {
                let (mut ok, mut failed, mut i) = (0, Vec::new(), 0);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match client
                        .publish(request(&queue, format!("{worker}-{i}").as_bytes()))
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(status) => failed.push(status),
                    }
                    i += 1;
                }
                (ok, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::task::spawn_blocking(|| {
        for args in [
            &["stop_app"][..],
            &["start_app"][..],
            &["await_startup"][..],
        ] {
            let out = rabbitmqctl(args);
            assert!(
                out.status.success(),
                "rabbitmqctl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    })
    .await
    .expect("broker restart");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);

    let mut confirmed = 0;
    for worker in load {
        let (ok, failed) = worker.await.expect("worker");
        confirmed += ok;
        for status in failed {
            assert!(
                matches!(status.code(), Code::Unavailable | Code::ResourceExhausted),
                "a clear error: {status:?}"
            );
        }
    }
    let reader = TestQueue::reopen(&queue.name).await;
    let stored = reader.drain().await.len();
    assert!(
        stored >= confirmed,
        "{confirmed} publishes returned OK but only {stored} survived the restart"
    );
    let mut client = publish.clone();
    client
        .publish(request(&reader.name, b"after"))
        .await
        .expect("publishing works again");
    reader.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_blocking_publishers_gives_a_clear_error_and_publishing_resumes_after() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .confirm_timeout_ms(500)
            .max_retries(1)
            .interval_start_ms(50),
    )
    .await;
    let (mut publish, mut pools) = (app.publish.clone(), app.pools.clone());
    publish
        .publish(request(&queue.name, b"before"))
        .await
        .expect("healthy broker");

    let alarm = tokio::task::spawn_blocking(MemoryAlarm::raise)
        .await
        .expect("alarm");
    let blocked = publish
        .publish(request(&queue.name, b"during"))
        .await
        .expect_err("the broker blocks publishers");
    assert_eq!(blocked.code(), Code::Unavailable, "{}", blocked.message());
    assert!(
        blocked.message().contains("confirm"),
        "{}",
        blocked.message()
    );

    tokio::task::spawn_blocking(move || drop(alarm))
        .await
        .expect("clear alarm");
    let mut recovered = false;
    for _ in 0..50 {
        if publish
            .publish(request(&queue.name, b"after"))
            .await
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "publishing resumed once the alarm cleared");
    let pool = &pools
        .list_pools(pb::ListPoolsRequest {})
        .await
        .expect("pools")
        .into_inner()
        .pools[0];
    assert!(
        pool.discarded >= 1 || pool.opened >= 2,
        "the blocked connection was replaced: {pool:?}"
    );
    queue.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_during_a_memory_alarm_answers_deadline_exceeded_by_the_clients_deadline() {
    let queue = TestQueue::new().await;
    // The broker's own deadline (35 s by default) is far off: the client's decides.
    let app = app_with(Broker::new("main", guest_url())).await;
    let mut publish = app.publish.clone();
    publish
        .publish(request(&queue.name, b"before"))
        .await
        .expect("healthy broker");
    let alarm = tokio::task::spawn_blocking(MemoryAlarm::raise)
        .await
        .expect("alarm");

    let mut call = tonic::Request::new(request(&queue.name, b"during"));
    call.set_timeout(Duration::from_secs(1));
    let answer = within("the publish", publish.publish(call)).await;

    let status = answer.expect_err("no confirm during the alarm");
    assert_eq!(
        status.code(),
        Code::DeadlineExceeded,
        "{}",
        status.message()
    );
    assert!(
        status.message().contains("not confirmed"),
        "{}",
        status.message()
    );
    tokio::task::spawn_blocking(move || drop(alarm))
        .await
        .expect("alarm cleared");
    queue.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_during_a_memory_alarm_reports_every_message_unconfirmed_at_the_publish_timeout() {
    let queue = TestQueue::new().await;
    // Under the old policy each of the 200 confirms got its own 30 s.
    let app = app_with(Broker::new("main", guest_url()).publish_timeout_ms(1500)).await;
    let mut publish = app.publish.clone();
    publish
        .publish(request(&queue.name, b"before"))
        .await
        .expect("healthy broker");
    let alarm = tokio::task::spawn_blocking(MemoryAlarm::raise)
        .await
        .expect("alarm");

    let batch = pb::PublishBatchRequest {
        broker: "main".into(),
        messages: (0..200)
            .map(|i| pb::OutgoingMessage {
                exchange: "amq.direct".into(),
                routing_key: queue.name.clone(),
                body: format!("during-{i}").into_bytes(),
                ..Default::default()
            })
            .collect(),
    };
    let answer = within("the batch", publish.publish_batch(batch)).await;

    let results = answer.expect("a result per message").into_inner().results;
    assert_eq!(results.len(), 200);
    for result in &results {
        assert_eq!(
            result.code,
            Code::DeadlineExceeded as i32,
            "{}",
            result.error
        );
        assert!(result.error.contains("not confirmed"), "{}", result.error);
    }
    tokio::task::spawn_blocking(move || drop(alarm))
        .await
        .expect("alarm cleared");
    queue.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_messages_to_a_missing_exchange_fails_only_those_and_lands_every_other_message_once()
 {
    let connection = connect().await;
    let first = exchange_with_queue(&connection, "k").await;
    let second = exchange_with_queue(&connection, "k").await;
    let missing = unique_name("vp-missing");
    let app = app_with(Broker::new("main", guest_url())).await;
    let (mut publish, mut pools) = (app.publish.clone(), app.pools.clone());
    let exchanges = [first.0.clone(), second.0.clone(), missing.clone()];
    let messages: Vec<pb::OutgoingMessage> = (0..30)
        .map(|i| pb::OutgoingMessage {
            exchange: exchanges[i % 3].clone(),
            routing_key: "k".into(),
            body: format!("m-{i}").into_bytes(),
            ..Default::default()
        })
        .collect();

    let results = publish
        .publish_batch(pb::PublishBatchRequest {
            broker: "main".into(),
            messages,
        })
        .await
        .expect("batch")
        .into_inner()
        .results;

    assert_eq!(results.len(), 30);
    for (i, result) in results.iter().enumerate() {
        let expected = if i % 3 == 2 { Code::NotFound } else { Code::Ok };
        assert_eq!(
            result.code,
            expected as i32,
            "message {i} to {}: {}",
            exchanges[i % 3],
            result.error
        );
    }
    for (offset, (_, queue)) in [(0, &first), (1, &second)] {
        let reader = TestQueue::reopen(queue).await;
        let bodies: Vec<String> = reader
            .drain()
            .await
            .into_iter()
            .map(|(body, _)| String::from_utf8_lossy(&body).into_owned())
            .collect();
        let expected: Vec<String> = (0..30)
            .filter(|i| i % 3 == offset)
            .map(|i| format!("m-{i}"))
            .collect();
        assert_eq!(bodies, expected, "each message exactly once, in order");
        reader.delete().await;
    }

    // A batch to the missing exchange alone closes its channel: every message is
    // NOT_FOUND, and the connection, healthy, is kept.
    let alone = publish
        .publish_batch(pb::PublishBatchRequest {
            broker: "main".into(),
            messages: (0..5)
                .map(|i| pb::OutgoingMessage {
                    exchange: missing.clone(),
                    routing_key: "k".into(),
                    body: format!("lost-{i}").into_bytes(),
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .expect("batch")
        .into_inner()
        .results;
    assert!(
        alone.iter().all(|r| r.code == Code::NotFound as i32),
        "{alone:?}"
    );
    let pool = &pools
        .list_pools(pb::ListPoolsRequest {})
        .await
        .expect("pools")
        .into_inner()
        .pools[0];
    assert_eq!((pool.opened, pool.discarded), (1, 0), "{pool:?}");
    let channel = connection.create_channel().await.expect("channel");
    for exchange in [first.0, second.0] {
        let _ = channel
            .exchange_delete(exchange.into(), Default::default())
            .await;
    }
}
