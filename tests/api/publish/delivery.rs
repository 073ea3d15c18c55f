//! Publishes and batches land intact, and bad requests and refused messages get
//! clear errors.

use std::collections::BTreeMap;

use lapin::types::AMQPValue;
use tonic::Code;
use tonic_types::{ErrorInfo, StatusExt};
use virtplane::grpc::pb;

use crate::support::{
    Broker,
    amqp::{TestQueue, app_with, connect, exchange_with_queue, guest_url, request},
    unique_name,
};

#[tokio::test]
async fn publish_and_publish_batch_land_intact_and_persistent() {
    let queue = TestQueue::new().await;
    let app = app_with(Broker::new("main", guest_url())).await;
    let mut publish = app.publish.clone();

    publish
        .publish(pb::PublishRequest {
            headers: BTreeMap::from([("x-origin".to_owned(), "test".to_owned())]),
            content_type: "application/json".into(),
            message_id: "m-1".into(),
            correlation_id: "c-1".into(),
            ..request(&queue.name, b"{\"n\":1}")
        })
        .await
        .expect("publish");
    let batch = publish
        .publish_batch(pb::PublishBatchRequest {
            request_id: String::new(),
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
    let info = reason_of(&unknown);
    assert_eq!(info.reason, "BROKER_NOT_FOUND");
    assert_eq!(info.metadata["broker"], "nope");

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
                headers: BTreeMap::from([("bad name".into(), "v".into())]),
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
        let field = match what {
            "no destination" => "routing_key",
            "oversize" => "body",
            _ => "headers",
        };
        let details = err.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert_eq!(violations[0].field, field, "{what}");
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
    assert_eq!(reason_of(&unroutable).reason, "UNROUTABLE");

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
            ..Default::default()
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
            request_id: String::new(),
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

fn reason_of(status: &tonic::Status) -> ErrorInfo {
    status
        .get_error_details()
        .error_info()
        .cloned()
        .expect("every error has an ErrorInfo")
}
