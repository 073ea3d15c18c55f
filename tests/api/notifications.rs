//! Notifications (Nova's notifier): lifecycle events and hypervisor errors published
//! to the configured exchange, at least once, through a broker outage and a restart.

use std::time::Duration;

use lapin::{
    Connection, ConnectionProperties, ExchangeKind,
    options::{
        BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::FieldTable,
};
use virtplane::grpc::pb;

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, domain_xml, scratch, spawn_app, unique_name,
};

fn amqp_url() -> String {
    "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned()
}

/// A durable topic exchange and a durable queue bound to it with `#`.
struct Subscription {
    exchange: String,
    queue: String,
}

impl Subscription {
    async fn new() -> Subscription {
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

    /// (routing key, JSON payload) of every message now queued.
    async fn drain(&self) -> Vec<(String, serde_json::Value)> {
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
    async fn until(
        &self,
        what: &str,
        done: impl Fn(&[(String, serde_json::Value)]) -> bool,
    ) -> Vec<(String, serde_json::Value)> {
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

    async fn delete(self) {
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

async fn connect() -> Connection {
    Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ reachable")
}

fn notifications_toml(exchange: &str) -> String {
    format!(
        "[brokers.main]\nurl = \"{}\"\nmax_retries = 1\ninterval_start_ms = 50\n\
         [notifications]\nbroker = \"main\"\nexchange = \"{exchange}\"\n",
        amqp_url()
    )
}

fn defined(name: &str) -> impl Fn(&[(String, serde_json::Value)]) -> bool + '_ {
    move |all| {
        all.iter()
            .any(|(key, p)| key == "lifecycle.defined" && p["domain_name"] == name)
    }
}

async fn define(app: &mut TestApp, name: &str) {
    app.domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(name),
        })
        .await
        .expect("define");
}

fn rabbitmqctl(args: &[&str]) {
    let out = std::process::Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn lifecycle_events_and_hypervisor_errors_arrive_on_the_exchange() {
    let sub = Subscription::new().await;
    let dir = scratch();
    let mut options = TestOptions::new(TEST_DRIVER);
    options.extra_toml = notifications_toml(&sub.exchange);
    let mut app = spawn_app(options, dir.path()).await;
    app.settled().await;
    let name = unique_name("notified");
    define(&mut app, &name).await;

    let got = sub.until("lifecycle.defined", defined(&name)).await;
    let (_, payload) = got
        .iter()
        .find(|(key, p)| key == "lifecycle.defined" && p["domain_name"] == name.as_str())
        .expect("event");
    assert_eq!(payload["hostname"], app.hostname.as_str());
    assert_eq!(payload["detail"], "added");
    assert_eq!(payload["synthetic"], false);
    assert!(payload["id"].as_i64().is_some_and(|id| id > 0));

    let broken_dir = scratch();
    let mut broken = TestOptions::new("test+tcp://127.0.0.1:1/default");
    broken.extra_toml = notifications_toml(&sub.exchange);
    let broken_app = spawn_app(broken, broken_dir.path()).await;
    let host = broken_app.hostname.clone();
    let got = sub
        .until("hypervisor.error", |all| {
            all.iter()
                .any(|(key, p)| key == "hypervisor.error" && p["host"] == host.as_str())
        })
        .await;
    let (_, error) = got
        .iter()
        .find(|(key, _)| key == "hypervisor.error")
        .expect("error");
    assert_eq!(error["method"], "connect");
    assert!(
        error["reason"]
            .as_str()
            .is_some_and(|r| r.contains("cannot connect to libvirt"))
    );
    sub.delete().await;
}

#[tokio::test]
async fn notifications_wait_in_the_outbox_through_a_broker_outage_and_a_restart() {
    let sub = Subscription::new().await;
    let dir = scratch();
    let mut options = TestOptions::new(TEST_DRIVER);
    options.extra_toml = notifications_toml(&sub.exchange);
    let mut first = spawn_app(options.clone(), dir.path()).await;
    let warmup = unique_name("warmup");
    define(&mut first, &warmup).await;
    sub.until("the first notification", defined(&warmup)).await;

    tokio::task::spawn_blocking(|| rabbitmqctl(&["stop_app"]))
        .await
        .expect("stop_app");
    let names: Vec<String> = (0..3)
        .map(|i| unique_name(&format!("outage-{i}")))
        .collect();
    for name in &names {
        define(&mut first, name).await;
    }
    // The events are stored; their notifications wait in the outbox.
    let database = format!("sqlite://{}/virtplane.db", dir.path().display());
    let pending = {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::SqliteConnection::connect(&database)
            .await
            .expect("db");
        let mut pending = 0;
        for _ in 0..100 {
            pending = sqlx::query("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")
                .fetch_one(&mut conn)
                .await
                .expect("count")
                .get::<i64, _>(0);
            if pending >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pending
    };
    assert!(pending >= 3, "{pending} notifications pending");
    first.stop().await;

    tokio::task::spawn_blocking(|| {
        rabbitmqctl(&["start_app"]);
        rabbitmqctl(&["await_startup"]);
    })
    .await
    .expect("start_app");
    let _second = spawn_app(options, dir.path()).await;
    let got = sub
        .until("every notification of the outage", |all| {
            names.iter().all(|n| defined(n)(all))
        })
        .await;
    for name in &names {
        let copies = got
            .iter()
            .filter(|(key, p)| key == "lifecycle.defined" && p["domain_name"] == name.as_str())
            .count();
        assert!(copies >= 1, "{name} delivered at least once");
    }
    sub.delete().await;
}

/// Notifications pending in `database` (a SQLite URL).
async fn pending_notifications(database: &str) -> i64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(database).await.expect("db");
    sqlx::query("SELECT COUNT(*) FROM outbox WHERE sink = 'amqp' AND delivered_at IS NULL")
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get::<i64, _>(0)
}

/// A confirm that never comes (the alarm) would hold the old stop sequence for its whole
/// retry policy, 4 × 10 s here, and a webhook receiver that never answers for its 30 s
/// timeout; the grace period is 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_broker_memory_alarm_exits_in_time_and_the_notifications_arrive_after_a_restart()
 {
    use crate::support::{Binary, rabbitmq::MemoryAlarm};
    use virtplane::grpc::pb::{
        domain_service_client::DomainServiceClient, publish_service_client::PublishServiceClient,
    };

    let sub = Subscription::new().await;
    // Connections complete in the kernel's backlog; nothing ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}/hook", silent.local_addr().expect("addr"));
    let dir = scratch();
    let database = format!("sqlite://{}/db.sqlite", dir.path().display());
    let config = dir.path().join("virtplane.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nhostname = \"{}\"\nshutdown_grace_period_ms = 2000\n\
             [libvirt]\nuri = \"{TEST_DRIVER}\"\n[database]\nurl = \"{database}\"\n\
             [brokers.main]\nurl = \"{}\"\nconfirm_timeout_ms = 10000\nmax_retries = 3\n\
             [notifications]\nbroker = \"main\"\nexchange = \"{}\"\n\
             [[webhooks]]\nname = \"silent\"\nurl = \"{silent_url}\"\nsecret = \"s\"\ntimeout_ms = 30000\n",
            unique_name("alarm"),
            amqp_url(),
            sub.exchange
        ),
    )
    .expect("config");
    let args = ["--config", config.to_str().expect("utf-8")];
    let binary = Binary::start(&args, &[]);
    let endpoint = format!("http://{}", binary.addr);
    let mut domains = DomainServiceClient::connect(endpoint.clone())
        .await
        .expect("client");
    let warmup = unique_name("warmup");
    domains
        .define_domain(pb::DefineDomainRequest {
            xml: domain_xml(&warmup),
        })
        .await
        .expect("define");
    sub.until("the notification before the alarm", defined(&warmup))
        .await;

    let alarm = tokio::task::spawn_blocking(MemoryAlarm::raise)
        .await
        .expect("alarm");
    let names: Vec<String> = (0..3).map(|i| unique_name(&format!("alarm-{i}"))).collect();
    for name in &names {
        domains
            .define_domain(pb::DefineDomainRequest {
                xml: domain_xml(name),
            })
            .await
            .expect("define during the alarm");
    }
    crate::support::eventually(Duration::from_secs(10), "3 notifications pending", || {
        let database = database.clone();
        async move { pending_notifications(&database).await >= 3 }
    })
    .await;
    // A call in flight as well, blocked by the alarm like the notifier.
    let mut publish = PublishServiceClient::connect(endpoint)
        .await
        .expect("client");
    let in_flight = tokio::spawn(async move {
        publish
            .publish(pb::PublishRequest {
                broker: "main".into(),
                exchange: "amq.direct".into(),
                routing_key: unique_name("nobody"),
                body: b"during the alarm".to_vec(),
                ..Default::default()
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    binary.signal("TERM");
    let (status, rest) = binary.wait_within(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "{rest:#?}");
    assert!(
        rest.iter().any(|l| l.contains("virtplane stopped")),
        "{rest:#?}"
    );
    let _ = in_flight.await;
    assert!(
        pending_notifications(&database).await >= 3,
        "the undelivered notifications stay pending"
    );

    tokio::task::spawn_blocking(move || drop(alarm))
        .await
        .expect("alarm cleared");
    let restarted = Binary::start(&args, &[]);
    let got = sub
        .until("every notification held by the alarm", |all| {
            names.iter().all(|n| defined(n)(all))
        })
        .await;
    for name in &names {
        assert!(
            got.iter()
                .any(|(key, p)| key == "lifecycle.defined" && p["domain_name"] == name.as_str()),
            "{name} delivered"
        );
    }
    restarted.signal("TERM");
    let (status, _) = restarted.wait_within(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0));
    drop(silent);
    sub.delete().await;
}
