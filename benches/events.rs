//! Lifecycle event benchmark, in one run:
//!
//! - persistence throughput: a burst of real libvirt events (domains defined and
//!   undefined in a tight loop through the in-process test driver), timed from the
//!   first callback to the last event stored, on SQLite and on PostgreSQL;
//! - delivery latency: from libvirt's callback (the event's `occurred_at`) to a
//!   `WatchLifecycleEvents` client, p50 and p99, at a steady rate.
//!
//! The baseline for throughput is the producer itself: how fast libvirt's test
//! driver can emit the same events with nobody recording them.
//! Run with `cargo bench --bench events`; `VIRTPLANE_TEST_POSTGRES` names the server.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use virt::connect::Connect;
use virtplane::{
    App,
    config::Config,
    grpc::pb::{self, host_service_client::HostServiceClient},
};

const BURST_DOMAINS: usize = 10_000;
const LATENCY_EVENTS: usize = 2_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let produce_only = producer_baseline();
        println!(
            "libvirt test driver alone: {} events in {:.0} ms = {:.0} events/s (producer ceiling)",
            2 * BURST_DOMAINS,
            produce_only.as_secs_f64() * 1e3,
            (2 * BURST_DOMAINS) as f64 / produce_only.as_secs_f64()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite = format!("sqlite://{}/bench.db", dir.path().display());
        throughput("SQLite", &sqlite).await;
        let pg_server = std::env::var("VIRTPLANE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let db = format!("virtplane_bench_{}", std::process::id());
        match PgConnection::connect(&format!("{pg_server}/postgres")).await {
            Ok(mut admin) => {
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                    .await
                    .expect("create database");
                throughput("PostgreSQL", &format!("{pg_server}/{db}")).await;
                latency("PostgreSQL", &format!("{pg_server}/{db}")).await;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE {db} WITH (FORCE)"
                    )))
                    .await
                    .expect("drop database");
            }
            Err(e) => println!("PostgreSQL skipped: {e}"),
        }
        let fresh = format!("sqlite://{}/latency.db", dir.path().display());
        latency("SQLite", &fresh).await;
    });
}

/// Defines and undefines `BURST_DOMAINS` domains with no service running.
fn producer_baseline() -> Duration {
    let conn = Connect::open(Some("test:///default")).expect("libvirt");
    let started = Instant::now();
    churn(&conn, "baseline", BURST_DOMAINS);
    started.elapsed()
}

fn churn(conn: &Connect, prefix: &str, count: usize) {
    for i in 0..count {
        let dom = conn
            .define_domain_xml(&xml(&format!("{prefix}-{i}")))
            .expect("define");
        dom.undefine().expect("undefine");
    }
}

fn xml(name: &str) -> String {
    format!(
        "<domain type='test'><name>{name}</name><memory unit='KiB'>65536</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"
    )
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops the app and waits until it closed its libvirt connection, so it no
    /// longer receives (and records) the events of the next measurement.
    async fn stop(self, client: HostServiceClient<Channel>) {
        drop(client);
        let _ = self.stop.send(());
        self.task.await.expect("app task").expect("app ran");
    }
}

async fn start_app(database_url: &str) -> (HostServiceClient<Channel>, Running) {
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench-{}\"\n[libvirt]\nuri = \"test:///default\"\n\
         [database]\nurl = \"{database_url}\"\n[events]\nqueue_capacity = 1000000\nwatch_buffer = 65536\n",
        std::process::id()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("app");
    let addr = app.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = HostServiceClient::new(channel);
    // Wait for the start-up reconciliation, so the burst is all that is measured.
    loop {
        let host = client
            .get_host(pb::GetHostRequest {})
            .await
            .expect("host")
            .into_inner();
        if host.reconciliations > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (client, Running { stop, task })
}

async fn newest_id(client: &mut HostServiceClient<Channel>) -> i64 {
    client
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .events
        .first()
        .map_or(0, |e| e.id)
}

async fn throughput(label: &str, database_url: &str) {
    let (mut client, stop) = start_app(database_url).await;
    let before = newest_id(&mut client).await;
    let expected = before + 2 * BURST_DOMAINS as i64;
    let started = Instant::now();
    let producer = tokio::task::spawn_blocking(|| {
        let conn = Connect::open(Some("test:///default")).expect("libvirt");
        churn(&conn, "burst", BURST_DOMAINS);
    });
    while newest_id(&mut client).await < expected {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    producer.await.expect("producer");
    let host = client
        .get_host(pb::GetHostRequest {})
        .await
        .expect("host")
        .into_inner();
    println!(
        "{label}: {} events persisted in {:.0} ms = {:.0} events/s (queue overflows: {})",
        2 * BURST_DOMAINS,
        elapsed.as_secs_f64() * 1e3,
        (2 * BURST_DOMAINS) as f64 / elapsed.as_secs_f64(),
        host.event_resyncs
    );
    stop.stop(client).await;
}

async fn latency(label: &str, database_url: &str) {
    let (mut client, stop) = start_app(database_url).await;
    let after = newest_id(&mut client).await;
    let mut stream = client
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(after),
            domain: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let producer = tokio::task::spawn_blocking(|| {
        let conn = Connect::open(Some("test:///default")).expect("libvirt");
        for i in 0..LATENCY_EVENTS / 2 {
            let dom = conn
                .define_domain_xml(&xml(&format!("lat-{i}")))
                .expect("define");
            std::thread::sleep(Duration::from_micros(500));
            dom.undefine().expect("undefine");
            std::thread::sleep(Duration::from_micros(500));
        }
    });
    let mut latencies = Vec::with_capacity(LATENCY_EVENTS);
    while latencies.len() < LATENCY_EVENTS {
        let event = stream.next().await.expect("open").expect("event");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
        let at = event.occurred_at.expect("timestamp");
        let occurred = Duration::new(at.seconds as u64, at.nanos as u32);
        latencies.push(now.saturating_sub(occurred));
    }
    producer.await.expect("producer");
    drop(stream);
    stop.stop(client).await;
    latencies.sort();
    let pick = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "callback -> WatchLifecycleEvents client ({label}, one event per ms): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pick(0.50).as_secs_f64() * 1e3,
        pick(0.90).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3
    );
}
