//! Lifecycle event benchmark, in one run:
//!
//! - persistence throughput: a burst of real libvirt events (domains defined and
//!   undefined in a tight loop through the in-process test driver), timed from the
//!   first callback to the last event stored, on SQLite and on PostgreSQL;
//! - delivery latency: from libvirt's callback (the event's `occurred_at`) to a
//!   `WatchLifecycleEvents` client, p50 and p99, at a steady rate.
//!
//! - delivery latency while the journal is pruned: 1,000,000 events 40 days old are
//!   preloaded (one bulk INSERT), then the service starts with the default 30-day
//!   retention and its pruner works through them while events flow at the same rate;
//!   p50/p99 beside the same flow with `retention_days = 0` (nothing pruned, the same
//!   million rows in the table) as the baseline, and how long pruning took.
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
/// Old events preloaded for the pruning scenario.
const PRELOAD: i64 = 1_000_000;
/// The retention-0 baseline of that scenario sends at most this many events.
const BASELINE_EVENTS_MAX: usize = 40_000;

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
                let fresh = |suffix: &str| {
                    let name = format!("{db}_{suffix}");
                    let url = format!("{pg_server}/{name}");
                    (name, url)
                };
                let (pruned_db, pruned_url) = fresh("pruned");
                let (kept_db, kept_url) = fresh("kept");
                for name in [&pruned_db, &kept_db] {
                    admin
                        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .await
                        .expect("create database");
                }
                pruning("PostgreSQL", &pruned_url, &kept_url).await;
                for name in [&pruned_db, &kept_db] {
                    admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE {name} WITH (FORCE)"
                        )))
                        .await
                        .expect("drop database");
                }
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
        pruning(
            "SQLite",
            &format!("sqlite://{}/pruned.db", dir.path().display()),
            &format!("sqlite://{}/kept.db", dir.path().display()),
        )
        .await;
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

fn hostname() -> String {
    format!("bench-{}", std::process::id())
}

async fn start_app(database_url: &str) -> (HostServiceClient<Channel>, Running) {
    start_app_with(database_url, "").await
}

/// Starts the service; `events_toml` adds lines to its `[events]` table.
async fn start_app_with(
    database_url: &str,
    events_toml: &str,
) -> (HostServiceClient<Channel>, Running) {
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"{}\"\n[libvirt]\nuri = \"test:///default\"\n\
         [database]\nurl = \"{database_url}\"\n[events]\nqueue_capacity = 1000000\nwatch_buffer = 65536\n\
         {events_toml}",
        hostname()
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
            .get_host(pb::GetHostRequest::default())
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
        .get_host(pb::GetHostRequest::default())
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
            hostname: String::new(),
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

/// Creates the schema and inserts `PRELOAD` events 40 days old in one statement
/// (a recursive CTE on SQLite, `generate_series` on PostgreSQL).
async fn preload(database_url: &str) {
    let store = virtplane::store::Store::connect(&virtplane::store::Settings {
        url: virtplane::secret::Secret::new(database_url.to_owned()),
        max_connections: 1,
    })
    .await
    .expect("schema");
    store.close().await;
    let old = virtplane::hypervisor::now_micros() - 40 * 86_400 * 1_000_000;
    let columns = "INSERT INTO lifecycle_events \
        (hostname, domain_uuid, domain_name, type, detail, synthetic, occurred_at)";
    let values = format!(
        "'{}', '00000000-0000-0000-0000-000000000000', 'old', 'started', 'booted', 0, {old} + i",
        hostname()
    );
    let sql = if database_url.starts_with("sqlite:") {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {PRELOAD}) \
             {columns} SELECT {values} FROM n"
        )
    } else {
        format!("{columns} SELECT {values} FROM generate_series(1, {PRELOAD}) AS i")
    };
    let started = Instant::now();
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url)
            .await
            .expect("sqlite");
        conn.execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("preload");
    } else {
        let mut conn = PgConnection::connect(database_url).await.expect("postgres");
        conn.execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("preload");
        // As a table that has been around for 40 days would be: vacuumed, so
        // autovacuum does not run for the inserts in the middle of a measurement.
        conn.execute("VACUUM (ANALYZE) lifecycle_events")
            .await
            .expect("vacuum");
    }
    println!(
        "  preloaded {PRELOAD} old events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Latency while the pruner works through `PRELOAD` old events, then the same flow
/// with retention off, on databases preloaded alike.
async fn pruning(label: &str, pruned_url: &str, kept_url: &str) {
    preload(pruned_url).await;
    preload(kept_url).await;
    let (client, stop) = start_app_with(pruned_url, "").await;
    let started = Instant::now();
    let pruned_in = std::sync::Arc::new(std::sync::OnceLock::new());
    let monitor = tokio::spawn({
        let mut client = client.clone();
        let pruned_in = std::sync::Arc::clone(&pruned_in);
        async move {
            loop {
                let oldest = client
                    .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                        page_size: 1,
                        order: pb::EventOrder::OldestFirst.into(),
                        ..Default::default()
                    })
                    .await
                    .expect("list")
                    .into_inner()
                    .events
                    .first()
                    .map_or(i64::MAX, |e| e.id);
                if oldest > PRELOAD {
                    let _ = pruned_in.set(started.elapsed());
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let until_pruned = {
        let pruned_in = std::sync::Arc::clone(&pruned_in);
        move |_: usize| pruned_in.get().is_none()
    };
    let (mut while_pruning, produced) = flow(client.clone(), until_pruned).await;
    monitor.await.expect("monitor");
    stop.stop(client).await;
    let took = *pruned_in.get().expect("pruned");

    let (client, stop) = start_app_with(kept_url, "retention_days = 0\n").await;
    // The same reads as the progress monitor above, so only the pruning differs.
    let poller = tokio::spawn({
        let mut client = client.clone();
        async move {
            loop {
                let _ = client
                    .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                        page_size: 1,
                        order: pb::EventOrder::OldestFirst.into(),
                        ..Default::default()
                    })
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    // As many events as flowed while pruning, up to a minute's worth: percentiles of
    // tens of thousands of samples are stable, and the bench stays short.
    let count = produced.min(BASELINE_EVENTS_MAX);
    let (mut baseline, _) = flow(client.clone(), move |sent| sent < count).await;
    poller.abort();
    stop.stop(client).await;

    let (p50, p99) = percentiles(&mut while_pruning);
    let (b50, b99) = percentiles(&mut baseline);
    println!(
        "{label}: {PRELOAD} old events pruned in {:.1} s ({:.0} events/s) while events flowed",
        took.as_secs_f64(),
        PRELOAD as f64 / took.as_secs_f64()
    );
    println!(
        "callback -> WatchLifecycleEvents client ({label}, one event per ms): \
         while pruning ({} events) p50 {:.2} ms, p99 {:.2} ms; retention 0 (baseline, {} events) \
         p50 {:.2} ms, p99 {:.2} ms; ratio p50 {:.2}x, p99 {:.2}x",
        while_pruning.len(),
        p50 * 1e3,
        p99 * 1e3,
        baseline.len(),
        b50 * 1e3,
        b99 * 1e3,
        p50 / b50,
        p99 / b99
    );
}

/// Sends about one event per ms (define, undefine) while `go_on(events sent)` holds;
/// returns each event's callback-to-client latency and how many were sent.
async fn flow(
    mut client: HostServiceClient<Channel>,
    go_on: impl Fn(usize) -> bool + Send + 'static,
) -> (Vec<Duration>, usize) {
    let after = newest_id(&mut client).await;
    let mut stream = client
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(after),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let producer = tokio::task::spawn_blocking(move || {
        let conn = Connect::open(Some("test:///default")).expect("libvirt");
        let mut sent = 0;
        while go_on(sent) {
            let dom = conn
                .define_domain_xml(&xml(&format!("flow-{sent}")))
                .expect("define");
            std::thread::sleep(Duration::from_micros(500));
            dom.undefine().expect("undefine");
            std::thread::sleep(Duration::from_micros(500));
            sent += 2;
        }
        sent
    });
    let mut latencies = Vec::new();
    let mut producer = Some(producer);
    let mut expected = usize::MAX;
    while latencies.len() < expected {
        if let Some(done) = producer.take_if(|p| p.is_finished()) {
            expected = done.await.expect("producer");
            continue;
        }
        let next = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
        let Ok(next) = next else { continue };
        let event = next.expect("open").expect("event");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
        let at = event.occurred_at.expect("timestamp");
        latencies.push(now.saturating_sub(Duration::new(at.seconds as u64, at.nanos as u32)));
    }
    (latencies, expected)
}

/// p50 and p99 in seconds.
fn percentiles(latencies: &mut [Duration]) -> (f64, f64) {
    latencies.sort();
    let pick = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64();
    (pick(0.50), pick(0.99))
}
