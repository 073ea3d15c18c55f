//! AMQP benchmark against baselines measured in the same run, confirms on both sides:
//!
//! (a) a checkout and return through the keyed pool group against raw deadpool with
//!     the same manager and the same live RabbitMQ connection;
//! (b) `PublishBatch` through gRPC against raw lapin publishing the same messages on
//!     one channel and awaiting every confirm;
//! (c) unary `Publish` from 64 concurrent callers against 64 raw lapin publishers
//!     (one channel each) publishing and awaiting each confirm.
//!
//! Needs RabbitMQ on 127.0.0.1:5672 (guest/guest). Run with `cargo bench --bench amqp`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use deadpool::managed::Pool;
use lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::{
        BasicPublishOptions, ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions, QueuePurgeOptions,
    },
    types::FieldTable,
};
use tonic::transport::Channel;
use virtplane::{
    App,
    amqp::{AmqpManager, BrokerKey},
    config::Config,
    grpc::pb::{self, publish_service_client::PublishServiceClient},
    pool::{Acquire, PoolGroup, PoolSettings},
    secret::Secret,
};

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const BATCH_MESSAGES: usize = 20_000;
const BATCH_SIZE: usize = 1_000;
const UNARY_PER_CALLER: usize = 150;
const CALLERS: usize = 64;
const BODY: usize = 256;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let queue = format!("virtplane-bench-{}", std::process::id());
        let admin = Connection::connect(URL, ConnectionProperties::default())
            .await
            .expect("RabbitMQ");
        let channel = admin.create_channel().await.expect("channel");
        channel
            .queue_declare(
                queue.clone().into(),
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
                queue.clone().into(),
                "amq.direct".into(),
                queue.clone().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");

        pool_overhead().await;

        let (client, _addr, _stop) = start_service().await;
        let raw = raw_batch(&queue).await;
        purge(&channel, &queue).await;
        let ours = service_batch(&client, &queue).await;
        purge(&channel, &queue).await;
        report(
            "(b) batch of 1000 x 20: PublishBatch via gRPC",
            ours,
            "raw lapin, one channel",
            raw,
        );

        let raw = raw_unary(&queue).await;
        purge(&channel, &queue).await;
        let raw_many = raw_unary_per_connection(&queue).await;
        purge(&channel, &queue).await;
        println!("    (raw lapin with 64 connections, one channel each: {raw_many:.0} msg/s)");
        let ours = service_unary(&client, &queue).await;
        purge(&channel, &queue).await;
        report(
            "(c) 64 concurrent callers, unary Publish",
            ours,
            "64 raw lapin publishers",
            raw,
        );

        let _ = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
    });
}

fn report(label: &str, ours: f64, baseline_label: &str, baseline: f64) {
    println!(
        "{label}: {ours:.0} msg/s; {baseline_label}: {baseline:.0} msg/s; ratio {:.2}",
        ours / baseline
    );
}

async fn purge(channel: &lapin::Channel, queue: &str) {
    channel
        .queue_purge(queue.to_owned().into(), QueuePurgeOptions::default())
        .await
        .expect("purge");
}

fn key() -> BrokerKey {
    BrokerKey::parse(&Secret::new(URL.into())).expect("key")
}

/// (a) Checkout + return, 200,000 times, warm pool of one live connection.
async fn pool_overhead() {
    const ROUNDS: u32 = 200_000;
    let raw: Pool<AmqpManager> = Pool::builder(AmqpManager::new(key()))
        .max_size(4)
        .build()
        .expect("pool");
    drop(raw.get().await.expect("connect"));
    let started = Instant::now();
    for _ in 0..ROUNDS {
        drop(raw.get().await.expect("get"));
    }
    let raw_ns = started.elapsed().as_nanos() as f64 / f64::from(ROUNDS);

    let settings = PoolSettings {
        max_size: 4,
        create_timeout: Duration::from_secs(5),
        recycle_timeout: None,
        lifo: true,
    };
    let group = PoolGroup::new("amqp", 16, settings, |k: &BrokerKey| {
        AmqpManager::new(k.clone())
    });
    let key = key();
    let wait = Acquire::Blocking(Duration::from_secs(5));
    drop(group.acquire(&key, wait).await.expect("connect"));
    let started = Instant::now();
    for _ in 0..ROUNDS {
        drop(group.acquire(&key, wait).await.expect("get"));
    }
    let ours_ns = started.elapsed().as_nanos() as f64 / f64::from(ROUNDS);
    println!(
        "(a) checkout + return: keyed pool group {ours_ns:.0} ns; raw deadpool {raw_ns:.0} ns; ratio {:.2}",
        ours_ns / raw_ns
    );
}

async fn start_service() -> (
    PublishServiceClient<Channel>,
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"test:///default\"\n\
         [database]\nurl = \"sqlite://{}/bench.db\"\n[brokers.main]\nurl = \"{URL}\"\nmax_connections = 8\n",
        dir.path().display()
    );
    std::mem::forget(dir);
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("app");
    let addr = app.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    (
        PublishServiceClient::new(channel).max_decoding_message_size(64 << 20),
        addr,
        stop,
    )
}

fn body() -> Vec<u8> {
    vec![b'x'; BODY]
}

async fn raw_batch(queue: &str) -> f64 {
    let conn = Connection::connect(URL, ConnectionProperties::default())
        .await
        .expect("connect");
    let channel = conn.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let body = body();
    let started = Instant::now();
    for _ in 0..BATCH_MESSAGES / BATCH_SIZE {
        let mut confirms = Vec::with_capacity(BATCH_SIZE);
        for _ in 0..BATCH_SIZE {
            confirms.push(
                channel
                    .basic_publish(
                        "amq.direct".into(),
                        queue.to_owned().into(),
                        BasicPublishOptions::default(),
                        &body,
                        BasicProperties::default().with_delivery_mode(2),
                    )
                    .await
                    .expect("publish"),
            );
        }
        for confirm in confirms {
            assert!(confirm.await.expect("confirm").is_ack());
        }
    }
    BATCH_MESSAGES as f64 / started.elapsed().as_secs_f64()
}

async fn service_batch(client: &PublishServiceClient<Channel>, queue: &str) -> f64 {
    let mut client = client.clone();
    let message = pb::OutgoingMessage {
        exchange: "amq.direct".into(),
        routing_key: queue.to_owned(),
        body: body(),
        ..Default::default()
    };
    let started = Instant::now();
    for _ in 0..BATCH_MESSAGES / BATCH_SIZE {
        let reply = client
            .publish_batch(pb::PublishBatchRequest {
                broker: "main".into(),
                messages: vec![message.clone(); BATCH_SIZE],
                ..Default::default()
            })
            .await
            .expect("batch")
            .into_inner();
        assert!(reply.results.iter().all(|r| r.code == 0));
    }
    BATCH_MESSAGES as f64 / started.elapsed().as_secs_f64()
}

/// One raw publisher: its own confirm-mode channel, each message awaited in turn.
async fn publish_one_by_one(conn: &Connection, queue: &str) {
    let channel = conn.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let body = body();
    for _ in 0..UNARY_PER_CALLER {
        let confirm = channel
            .basic_publish(
                "amq.direct".into(),
                queue.to_owned().into(),
                BasicPublishOptions::default(),
                &body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .expect("publish");
        assert!(confirm.await.expect("confirm").is_ack());
    }
}

async fn raw_unary_per_connection(queue: &str) -> f64 {
    let mut conns = Vec::new();
    for _ in 0..CALLERS {
        conns.push(
            Connection::connect(URL, ConnectionProperties::default())
                .await
                .expect("connect"),
        );
    }
    let started = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|conn| {
            let queue = queue.to_owned();
            tokio::spawn(async move {
                publish_one_by_one(&conn, &queue).await;
                drop(conn);
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publisher");
    }
    (CALLERS * UNARY_PER_CALLER) as f64 / started.elapsed().as_secs_f64()
}

async fn raw_unary(queue: &str) -> f64 {
    let conn = Arc::new(
        Connection::connect(URL, ConnectionProperties::default())
            .await
            .expect("connect"),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let conn = Arc::clone(&conn);
            let queue = queue.to_owned();
            tokio::spawn(async move {
                publish_one_by_one(&conn, &queue).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publisher");
    }
    (CALLERS * UNARY_PER_CALLER) as f64 / started.elapsed().as_secs_f64()
}

async fn service_unary(client: &PublishServiceClient<Channel>, queue: &str) -> f64 {
    // 64 concurrent callers over one HTTP/2 connection (64 separate connections cost
    // this 2-core machine more CPU and gave lower figures).
    let clients: Vec<_> = (0..CALLERS).map(|_| client.clone()).collect();
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let request = pb::PublishRequest {
                broker: "main".into(),
                exchange: "amq.direct".into(),
                routing_key: queue.to_owned(),
                body: body(),
                ..Default::default()
            };
            tokio::spawn(async move {
                for _ in 0..UNARY_PER_CALLER {
                    client.publish(request.clone()).await.expect("publish");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("caller");
    }
    (CALLERS * UNARY_PER_CALLER) as f64 / started.elapsed().as_secs_f64()
}
