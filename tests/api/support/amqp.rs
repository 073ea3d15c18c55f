//! The test's own side of RabbitMQ: where the broker is, queues that read back what
//! the service published, and a subscription to its notifications.

use std::time::Duration;

use lapin::{
    BasicProperties, Connection, ConnectionProperties, ExchangeKind,
    options::{
        BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::FieldTable,
};

use virtplane::grpc::pb;

use super::{Broker, TEST_DRIVER, TestApp, TestOptions, unique_name};

pub fn broker_host() -> String {
    std::env::var("VIRTPLANE_TEST_AMQP_HOST").unwrap_or_else(|_| "127.0.0.1".into())
}

/// The broker as its default user sees it.
pub fn guest_url() -> String {
    format!("amqp://guest:guest@{}:5672/%2f", broker_host())
}

pub async fn connect() -> Connection {
    Connection::connect(&guest_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ reachable")
}

/// The app publishing through `broker`.
pub async fn app_with(broker: Broker) -> TestApp {
    TestApp::spawn(TestOptions::new(TEST_DRIVER).broker(broker)).await
}

/// A publish of `body` to `queue` through `amq.direct` on the broker `main`.
pub fn request(queue: &str, body: &[u8]) -> pb::PublishRequest {
    pb::PublishRequest {
        broker: "main".into(),
        exchange: "amq.direct".into(),
        routing_key: queue.into(),
        body: body.to_vec(),
        ..Default::default()
    }
}

/// A queue read back with basic.get.
pub struct TestQueue {
    pub connection: Connection,
    pub name: String,
}

impl TestQueue {
    /// A durable queue bound to `amq.direct` under its own name.
    pub async fn new() -> TestQueue {
        let connection = connect().await;
        let name = unique_name("vp-queue");
        let channel = connection.create_channel().await.expect("channel");
        channel
            .queue_declare(
                name.clone().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("declare");
        channel
            .queue_bind(
                name.clone().into(),
                "amq.direct".into(),
                name.clone().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
        TestQueue { connection, name }
    }

    /// The queue `name` read on a new connection (the old one may have been closed).
    pub async fn reopen(name: &str) -> TestQueue {
        TestQueue {
            connection: connect().await,
            name: name.to_owned(),
        }
    }

    /// Every message now in the queue (body, properties), acknowledged.
    pub async fn drain(&self) -> Vec<(Vec<u8>, BasicProperties)> {
        let channel = self.connection.create_channel().await.expect("channel");
        let mut messages = Vec::new();
        while let Some(message) = channel
            .basic_get(self.name.clone().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("get")
        {
            messages.push((
                message.delivery.data.clone(),
                message.delivery.properties.clone(),
            ));
        }
        messages
    }

    pub async fn delete(self) {
        if let Ok(channel) = self.connection.create_channel().await {
            let _ = channel
                .queue_delete(self.name.clone().into(), QueueDeleteOptions::default())
                .await;
        }
    }
}

/// A direct exchange of the test's own with one queue bound under `key`.
pub async fn exchange_with_queue(connection: &Connection, key: &str) -> (String, String) {
    let (exchange, queue) = (unique_name("vp-ex"), unique_name("vp-ex-q"));
    let channel = connection.create_channel().await.expect("channel");
    channel
        .exchange_declare(
            exchange.clone().into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("exchange");
    channel
        .queue_declare(
            queue.clone().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.clone().into(),
            exchange.clone().into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
    (exchange, queue)
}

/// (routing key, JSON payload) of one notification.
pub type Notification = (String, serde_json::Value);

/// A durable topic exchange and a durable queue bound to it with `#`.
pub struct Subscription {
    pub exchange: String,
    queue: String,
}

impl Subscription {
    pub async fn new() -> Subscription {
        let sub = Subscription {
            exchange: unique_name("vp-notify"),
            queue: unique_name("vp-notify-q"),
        };
        let conn = connect().await;
        let channel = conn.create_channel().await.expect("channel");
        channel
            .exchange_declare(
                sub.exchange.clone().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("exchange");
        channel
            .queue_declare(
                sub.queue.clone().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("queue");
        channel
            .queue_bind(
                sub.queue.clone().into(),
                sub.exchange.clone().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
        sub
    }

    /// Every notification now queued.
    async fn drain(&self) -> Vec<Notification> {
        let conn = connect().await;
        let channel = conn.create_channel().await.expect("channel");
        let mut out = Vec::new();
        while let Some(m) = channel
            .basic_get(self.queue.clone().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("get")
        {
            let payload = serde_json::from_slice(&m.delivery.data).expect("JSON payload");
            out.push((m.delivery.routing_key.to_string(), payload));
        }
        out
    }

    /// Drains until `done` holds for everything received so far (20 s at most).
    pub async fn until(
        &self,
        what: &str,
        done: impl Fn(&[Notification]) -> bool,
    ) -> Vec<Notification> {
        let mut all = Vec::new();
        for _ in 0..200 {
            all.extend(self.drain().await);
            if done(&all) {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what} never arrived; got {all:?}");
    }

    pub async fn delete(self) {
        let conn = connect().await;
        let channel = conn.create_channel().await.expect("channel");
        let _ = channel
            .queue_delete(self.queue.into(), QueueDeleteOptions::default())
            .await;
        let _ = channel
            .exchange_delete(self.exchange.into(), Default::default())
            .await;
    }
}

/// Whether a `lifecycle.defined` notification about `name` is among `all`.
pub fn defined(name: &str) -> impl Fn(&[Notification]) -> bool + '_ {
    move |all| {
        all.iter()
            .any(|(key, p)| key == "lifecycle.defined" && p["domain_name"] == name)
    }
}
