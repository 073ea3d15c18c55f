//! A fleet of agents on one PostgreSQL, simulated in one process: N hosts (1, 50,
//! 200), each recording lifecycle events at a steady 20 events/s plus a burst of 100
//! every 10 s (a host starting or stopping many domains at once; each host at its own
//! phase), and sending a heartbeat every second (ten times the default, to load the
//! database with it), while a client lists the hosts twice a second.
//!
//! Each host runs what its recorder does: events queue while a commit runs and the
//! next commit takes them all (one transaction: one multi-row INSERT and the known
//! state of each domain in the batch; then the announcement to other agents, through
//! the store the agent uses).
//!
//! One more agent, a real service on the same database, serves a
//! `WatchLifecycleEvents` stream of every simulated host's events to a gRPC client,
//! as a scheduler following the fleet would use it. An event's latency is from its
//! creation (libvirt's callback) to its arrival at that client: the commit, the
//! announcement through PostgreSQL, the watching agent's read and the stream.
//!
//! The server's connections are shared with whatever else runs on it: the simulated
//! agents get at most `FLEET_BENCH_CONNECTIONS` (40) of them, one pool of one
//! connection per agent up to that budget, agents sharing pools beyond it, and the
//! report says how many agents shared each connection. A real agent also holds its
//! writer lock on a session of its own (the watching agent does).
//!
//! Run with `cargo bench --bench fleet`; `VIRTPLANE_TEST_POSTGRES` names the server.

mod agent;
mod measure;
mod watcher;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use virtplane::{
    grpc::pb::{self, host_service_client::HostServiceClient},
    secret::Secret,
    store::{Settings, Store},
};

use agent::agent;
use measure::{Cpu, list_hosts, ms, peak_connections, percentile};
use watcher::{watch, watching_agent};

pub(crate) const RATE_PER_HOST: u64 = 20;
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);
pub(crate) const RUN: Duration = Duration::from_secs(12);
/// Watch streams per HTTP/2 connection of the watching client.
const STREAMS_PER_CHANNEL: usize = 50;
/// How long watchers may take to receive the last events after the run.
pub(crate) const DRAIN: Duration = Duration::from_secs(10);

/// The load, from the environment: `FLEET_BENCH_HOSTS` (fleet sizes, comma-separated,
/// default 1,50,200), `FLEET_BENCH_BURST` (events, default 100) and
/// `FLEET_BENCH_BURST_EVERY_S` (default 10).
#[derive(Clone)]
pub(crate) struct Load {
    fleets: Vec<usize>,
    pub(crate) burst: usize,
    pub(crate) burst_every: Duration,
}

impl Load {
    fn from_env() -> Load {
        let var = |name: &str| std::env::var(name).ok();
        Load {
            fleets: var("FLEET_BENCH_HOSTS").map_or_else(
                || vec![1, 50, 200],
                |v| {
                    v.split(',')
                        .map(|n| n.trim().parse().expect("a fleet size"))
                        .collect()
                },
            ),
            burst: var("FLEET_BENCH_BURST").map_or(100, |v| v.parse().expect("a burst size")),
            burst_every: Duration::from_secs(
                var("FLEET_BENCH_BURST_EVERY_S").map_or(10, |v| v.parse().expect("seconds")),
            ),
        }
    }
}

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
        let load = Load::from_env();
        println!(
            "{} s per fleet; per host {RATE_PER_HOST} events/s + {} every {} s, a heartbeat every {} s",
            RUN.as_secs(),
            load.burst,
            load.burst_every.as_secs(),
            HEARTBEAT.as_secs()
        );
        for &hosts in &load.fleets {
            let db = format!("virtplane_fleet_bench_{}_{hosts}", std::process::id());
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .await
                .expect("create database");
            run_fleet(&load, hosts, budget, &format!("{server}/{db}"), &db).await;
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
pub(crate) struct Measured {
    /// From each event's creation to its commit.
    pub(crate) to_commit: Vec<Duration>,
    pub(crate) persisted: usize,
    pub(crate) failed_beats: usize,
}

/// What the watcher of one host received.
#[derive(Default)]
pub(crate) struct Watched {
    /// From each event's creation to its arrival at the watching client.
    pub(crate) to_watcher: Vec<Duration>,
    pub(crate) missing: usize,
}

async fn run_fleet(load: &Load, hosts: usize, budget: usize, url: &str, db: &str) {
    let pools = hosts.min(budget);
    let mut stores = Vec::with_capacity(pools);
    for _ in 0..pools {
        stores.push(connect(url, 1).await);
    }
    let reader = connect(url, 1).await;
    let mut hostnames = Vec::with_capacity(hosts);
    for i in 0..hosts {
        let hostname = format!("bench-{i:04}");
        let labels = BTreeMap::from([("rack".to_owned(), format!("r{}", i % 10))]);
        stores[i % pools]
            .register_host(&hostname, "bench", &labels)
            .await
            .expect("host row");
        hostnames.push(hostname);
    }
    let (watching_agent, stop_watching_agent) = watching_agent(url).await;
    let mut watchers = Vec::with_capacity(hosts);
    for chunk in hostnames.chunks(STREAMS_PER_CHANNEL) {
        let channel = Channel::from_shared(format!("http://{watching_agent}"))
            .expect("uri")
            .connect()
            .await
            .expect("the watching agent");
        for hostname in chunk {
            let (expect_tx, expect_rx) = oneshot::channel();
            let stream = HostServiceClient::new(channel.clone())
                .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
                    hostname: hostname.clone(),
                    after_id: Some(0),
                    ..pb::WatchLifecycleEventsRequest::default()
                })
                .await
                .expect("WatchLifecycleEvents")
                .into_inner();
            watchers.push((expect_tx, tokio::spawn(watch(stream, expect_rx))));
        }
    }

    let cpu_before = Cpu::now();
    let deadline = Instant::now() + RUN;
    let agents: Vec<_> = hostnames
        .iter()
        .enumerate()
        .map(|(i, hostname)| {
            let store = stores[i % pools].clone();
            tokio::spawn(agent(store, hostname.clone(), load.clone(), deadline))
        })
        .collect();
    let lister = tokio::spawn(list_hosts(reader.clone(), deadline));
    let connections = tokio::spawn(peak_connections(url.to_owned(), db.to_owned(), deadline));

    let (mut to_commit, mut to_watcher) = (Vec::new(), Vec::new());
    let (mut persisted, mut failed_beats, mut missing) = (0, 0, 0);
    let mut host_p99s = Vec::with_capacity(hosts);
    for (agent, (expect, watcher)) in agents.into_iter().zip(watchers) {
        let mut measured = agent.await.expect("agent");
        persisted += measured.persisted;
        failed_beats += measured.failed_beats;
        to_commit.append(&mut measured.to_commit);
        let _ = expect.send(measured.persisted);
        let mut watched = watcher.await.expect("watcher");
        missing += watched.missing;
        host_p99s.push(percentile(&mut watched.to_watcher, 0.99));
        to_watcher.append(&mut watched.to_watcher);
    }
    let mut list_latencies = lister.await.expect("lister");
    let peak = connections.await.expect("sampler");
    let cpu = Cpu::now().since(&cpu_before);
    let worst_host_p99 = host_p99s.iter().copied().max().unwrap_or_default();
    println!(
        "{hosts:>3} hosts: {:>6.0} events/s persisted; callback to watcher p50 {:.1} ms, \
         p99 {:.1} ms, worst host's p99 {:.1} ms ({missing} not received); callback to \
         commit p50 {:.1} ms, p99 {:.1} ms; ListHosts (page of 100) p50 {:.1} ms, p99 {:.1} ms; \
         {pools} agent pools of 1 connection ({:.1} agents each), peak {peak} connections \
         on the database, the watching agent's included; {failed_beats} failed heartbeats; \
         CPU per 1000 events: PostgreSQL {:.0} ms, agents and watchers {:.0} ms \
         ({:.0}% of the machine's {} CPUs busy)",
        persisted as f64 / RUN.as_secs_f64(),
        ms(percentile(&mut to_watcher, 0.5)),
        ms(percentile(&mut to_watcher, 0.99)),
        ms(worst_host_p99),
        ms(percentile(&mut to_commit, 0.5)),
        ms(percentile(&mut to_commit, 0.99)),
        ms(percentile(&mut list_latencies, 0.5)),
        ms(percentile(&mut list_latencies, 0.99)),
        hosts as f64 / pools as f64,
        cpu.database_s * 1e6 / persisted.max(1) as f64,
        cpu.bench_s * 1e6 / persisted.max(1) as f64,
        cpu.busy_share * 100.0,
        cpu.cpus,
    );
    let _ = stop_watching_agent.send(());
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
