//! A broker in a memory alarm blocks publishers: clear errors by the deadlines, and
//! publishing resumes after.

use std::time::Duration;

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{
    Broker,
    amqp::{TestQueue, app_with, guest_url, request},
    rabbitmq::MemoryAlarm,
    within,
};

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
        request_id: String::new(),
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
