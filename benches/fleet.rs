//! A fleet of agents on one PostgreSQL, simulated in one process: N hosts (1, 50,
//! 200), each recording lifecycle events at a steady 20 events/s plus a burst of 200
//! every 5 s, and sending a heartbeat every second (ten times the default, to load the
//! database with it), while a client lists the hosts twice a second.
//!
//! Each host runs what its recorder does: events queue while a commit runs and the
//! next commit takes them all (one transaction, one multi-row INSERT, through the
//! store the agent uses). An event's latency is from its creation (libvirt's callback)
//! to its commit, after which the recorder hands it to watchers in microseconds.
//!
//! The server's connections are shared with whatever else runs on it: the agents get
//! at most `FLEET_BENCH_CONNECTIONS` (40) of them, one pool of one connection per
//! agent up to that budget, agents sharing pools beyond it, and the report says how
//! many agents shared each connection. A real agent also holds its writer lock on a
//! session of its own (not simulated here).
//!
//! Run with `cargo bench --bench fleet`; `VIRTPLANE_TEST_POSTGRES` names the server.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::{Connection, Executor, PgConnection, Row};
use tokio::sync::Notify;
use virtplane::{
    hypervisor::now_micros,
    model::{EventType, NewEvent},
    secret::Secret,
    store::{Heartbeat, HostQuery, KnownChanges, Settings, Store},
};

const FLEETS: [usize; 3] = [1, 50, 200];
const RATE_PER_HOST: u64 = 20;
const BURST: usize = 200;
const BURST_EVERY: Duration = Duration::from_secs(5);
const HEARTBEAT: Duration = Duration::from_secs(1);
const RUN: Duration = Duration::from_secs(12);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = std::env::var("VIRTPLANE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let budget: usize = std::env::var("FLEET_BENCH_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(40);
        let mut admin = PgConnection::connect(&format!("{server}/postgres"))
            .await
            .expect("PostgreSQL reachable");
        println!(
            "{} s per fleet; per host {RATE_PER_HOST} events/s + {BURST} every {} s, a heartbeat every {} s",
            RUN.as_secs(),
            BURST_EVERY.as_secs(),
            HEARTBEAT.as_secs()
        );
        for hosts in FLEETS {
            let db = format!("virtplane_fleet_bench_{}_{hosts}", std::process::id());
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .await
                .expect("create database");
            run_fleet(hosts, budget, &format!("{server}/{db}"), &db).await;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await
                .expect("drop database");
        }
    });
}

/// What one simulated agent measured.
#[derive(Default)]
struct Measured {
    latencies: Vec<Duration>,
    persisted: usize,
    failed_beats: usize,
}

async fn run_fleet(hosts: usize, budget: usize, url: &str, db: &str) {
    let pools = hosts.min(budget);
    let mut stores = Vec::with_capacity(pools);
    for _ in 0..pools {
        stores.push(connect(url, 1).await);
    }
    let reader = connect(url, 1).await;
    let deadline = Instant::now() + RUN;
    let mut agents = Vec::with_capacity(hosts);
    for i in 0..hosts {
        let store = stores[i % pools].clone();
        let hostname = format!("bench-{i:04}");
        let labels = BTreeMap::from([("rack".to_owned(), format!("r{}", i % 10))]);
        store
            .register_host(&hostname, "bench", &labels)
            .await
            .expect("host row");
        agents.push(tokio::spawn(agent(store, hostname, deadline)));
    }
    let lister = tokio::spawn(list_hosts(reader.clone(), deadline));
    let connections = tokio::spawn(peak_connections(url.to_owned(), db.to_owned(), deadline));

    let mut latencies = Vec::new();
    let (mut persisted, mut failed_beats) = (0, 0);
    let mut host_p99s = Vec::with_capacity(hosts);
    for agent in agents {
        let mut measured = agent.await.expect("agent");
        persisted += measured.persisted;
        failed_beats += measured.failed_beats;
        host_p99s.push(percentile(&mut measured.latencies, 0.99));
        latencies.append(&mut measured.latencies);
    }
    let mut list_latencies = lister.await.expect("lister");
    let peak = connections.await.expect("sampler");
    let (p50, p99) = (
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );
    let worst_host_p99 = host_p99s.iter().copied().max().unwrap_or_default();
    println!(
        "{hosts:>3} hosts: {:>6.0} events/s persisted; callback to watcher p50 {:.1} ms, \
         p99 {:.1} ms, worst host's p99 {:.1} ms; ListHosts (page of 100) p50 {:.1} ms, \
         p99 {:.1} ms; {pools} agent pools of 1 connection ({:.1} agents each), \
         peak {peak} connections on the database; {failed_beats} failed heartbeats",
        persisted as f64 / RUN.as_secs_f64(),
        ms(p50),
        ms(p99),
        ms(worst_host_p99),
        ms(percentile(&mut list_latencies, 0.5)),
        ms(percentile(&mut list_latencies, 0.99)),
        hosts as f64 / pools as f64,
    );
    for store in stores {
        store.close().await;
    }
    reader.close().await;
}

async fn connect(url: &str, max_connections: u32) -> Store {
    Store::connect(&Settings {
        url: Secret::new(url.to_owned()),
        max_connections,
    })
    .await
    .expect("store")
}

/// One agent: a producer queueing events as libvirt's callback would, a recorder
/// committing whatever is queued, and a heartbeat.
async fn agent(store: Store, hostname: String, deadline: Instant) -> Measured {
    let queue: Arc<Mutex<Vec<(Instant, NewEvent)>>> = Arc::default();
    let wake = Arc::new(Notify::new());
    let producer = tokio::spawn(produce(Arc::clone(&queue), Arc::clone(&wake), deadline));
    let beats = tokio::spawn(heartbeats(store.clone(), hostname.clone(), deadline));
    let mut measured = Measured::default();
    loop {
        let batch = std::mem::take(&mut *queue.lock().expect("queue"));
        if batch.is_empty() {
            if Instant::now() >= deadline && producer.is_finished() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), wake.notified()).await;
            continue;
        }
        let events: Vec<NewEvent> = batch.iter().map(|(_, e)| e.clone()).collect();
        store
            .record_events(&hostname, &events, &KnownChanges::default(), &[])
            .await
            .expect("recorded");
        let committed = Instant::now();
        measured.persisted += batch.len();
        measured
            .latencies
            .extend(batch.iter().map(|(created, _)| committed - *created));
    }
    measured.failed_beats = beats.await.expect("heartbeats");
    measured
}

async fn produce(
    queue: Arc<Mutex<Vec<(Instant, NewEvent)>>>,
    wake: Arc<Notify>,
    deadline: Instant,
) {
    // Hosts start at random phases, as real ones do.
    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..1000))).await;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_PER_HOST));
    let mut next_burst = Instant::now() + BURST_EVERY;
    let mut n = 0_u64;
    while Instant::now() < deadline {
        tick.tick().await;
        let count = if Instant::now() >= next_burst {
            next_burst += BURST_EVERY;
            BURST
        } else {
            1
        };
        let mut queued = queue.lock().expect("queue");
        for _ in 0..count {
            n += 1;
            queued.push((Instant::now(), event(n)));
        }
        drop(queued);
        wake.notify_one();
    }
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        domain_uuid: format!("00000000-0000-0000-0000-{:012}", n % 50),
        domain_name: format!("vm-{}", n % 50),
        kind: if n.is_multiple_of(2) {
            EventType::Started
        } else {
            EventType::Stopped
        },
        detail: "booted".into(),
        synthetic: false,
        occurred_at_micros: now_micros(),
    }
}

async fn heartbeats(store: Store, hostname: String, deadline: Instant) -> usize {
    let mut tick = tokio::time::interval(HEARTBEAT);
    let mut failed = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let beat = Heartbeat {
            connected: true,
            libvirt_version: "10.0.0".into(),
            ..Heartbeat::default()
        };
        if store.heartbeat(&hostname, &beat).await.is_err() {
            failed += 1;
        }
    }
    failed
}

/// `ListHosts`' query, a first page of 100 up hosts, twice a second.
async fn list_hosts(store: Store, deadline: Instant) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    while Instant::now() < deadline {
        tick.tick().await;
        let started = Instant::now();
        let cutoff = now_micros() / 1000 - 60_000;
        store
            .list_hosts(&HostQuery {
                up: Some(true),
                heartbeat_cutoff_ms: cutoff,
                limit: 101,
                ..HostQuery::default()
            })
            .await
            .expect("hosts");
        latencies.push(started.elapsed());
    }
    latencies
}

/// The most connections open on `db` at once, sampled every 200 ms.
async fn peak_connections(url: String, db: String, deadline: Instant) -> i64 {
    let mut conn = PgConnection::connect(&url).await.expect("sampler");
    let mut peak = 0;
    while Instant::now() < deadline {
        let row = sqlx::query("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db)
            .fetch_one(&mut conn)
            .await
            .expect("pg_stat_activity");
        // The sampler's own connection is not the agents'.
        peak = peak.max(row.get::<i64, _>(0) - 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    peak
}

fn percentile(values: &mut [Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
