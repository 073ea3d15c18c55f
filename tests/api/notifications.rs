//! Notifications (Nova's notifier): lifecycle events and hypervisor errors published
//! to the configured exchange, at least once, through a broker outage and a restart.

use std::time::Duration;

use virtplane::grpc::pb;

use crate::support::{
    Broker, Scratch, TEST_DRIVER, TestApp, TestOptions,
    amqp::{Subscription, defined, guest_url},
    domain_xml,
    rabbitmq::rabbitmqctl_ok,
    unique_name,
};

/// The app's options with notifications to `sub`'s exchange through `main`.
fn notifying(libvirt_uri: &str, sub: &Subscription) -> TestOptions {
    TestOptions::new(libvirt_uri)
        .broker(
            Broker::new("main", guest_url())
                .max_retries(1)
                .interval_start_ms(50),
        )
        .notifications("main", &sub.exchange)
}

#[tokio::test]
async fn lifecycle_events_and_hypervisor_errors_arrive_on_the_exchange() {
    let sub = Subscription::new().await;
    let mut app = TestApp::spawn(notifying(TEST_DRIVER, &sub)).await;
    app.settled().await;
    let name = unique_name("notified");
    app.define(&name).await;

    let got = sub.until("lifecycle.defined", defined(&name)).await;
    let (_, payload) = got
        .iter()
        .find(|(key, p)| key == "lifecycle.defined" && p["domain_name"] == name.as_str())
        .expect("event");
    assert_eq!(payload["hostname"], app.hostname.as_str());
    assert_eq!(payload["detail"], "added");
    assert_eq!(payload["synthetic"], false);
    assert!(payload["id"].as_i64().is_some_and(|id| id > 0));

    let broken_app = TestApp::spawn(notifying("test+tcp://127.0.0.1:1/default", &sub)).await;
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
    let options = notifying(TEST_DRIVER, &sub);
    let mut first = TestApp::spawn(options.clone()).await;
    let scratch = first.scratch.clone();
    let warmup = unique_name("warmup");
    first.define(&warmup).await;
    sub.until("the first notification", defined(&warmup)).await;

    tokio::task::spawn_blocking(|| rabbitmqctl_ok(&["stop_app"]))
        .await
        .expect("stop_app");
    let names: Vec<String> = (0..3)
        .map(|i| unique_name(&format!("outage-{i}")))
        .collect();
    for name in &names {
        first.define(name).await;
    }
    // The events are stored; their notifications wait in the outbox.
    let database = scratch.sqlite_url();
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
        rabbitmqctl_ok(&["start_app"]);
        rabbitmqctl_ok(&["await_startup"]);
    })
    .await
    .expect("start_app");
    let _second = TestApp::spawn_in(options, &scratch).await;
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
    let dir = Scratch::create();
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
            guest_url(),
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
            ..Default::default()
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
                ..Default::default()
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
