//! Broker connection pools: equal parameters share one, the password shows nowhere,
//! and a full pool answers RESOURCE_EXHAUSTED and recovers.

use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;
use virtplane::grpc::pb;

use crate::support::{
    Broker, TEST_DRIVER, TestApp, TestOptions,
    amqp::{TestQueue, app_with, broker_host, guest_url, request},
    rabbitmq::rabbitmqctl,
};

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
                ..Default::default()
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
                // The warm-up gave its connection back: the pool knows how long
                // connections are kept, and says when one is likely free.
                let details = status.get_error_details();
                let info = details.error_info().expect("ErrorInfo");
                assert_eq!(info.reason, "POOL_EXHAUSTED");
                assert_eq!(info.metadata["broker"], "main");
                assert!(
                    details.retry_info().and_then(|r| r.retry_delay).is_some(),
                    "{details:?}"
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
