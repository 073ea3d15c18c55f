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

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::{Connection, Executor, PgConnection, Row};
use tokio::sync::{Notify, oneshot};
use tonic::transport::Channel;
use virtplane::{
    App,
    config::Config,
    grpc::pb::{self, host_service_client::HostServiceClient},
    hypervisor::now_micros,
    model::{DomainState, EventType, KnownDomain, NewEvent},
    secret::Secret,
    store::{Heartbeat, HostQuery, KnownChanges, Settings, Store},
};

const RATE_PER_HOST: u64 = 20;
const HEARTBEAT: Duration = Duration::from_secs(1);
const RUN: Duration = Duration::from_secs(12);
/// Watch streams per HTTP/2 connection of the watching client.
const STREAMS_PER_CHANNEL: usize = 50;
/// How long watchers may take to receive the last events after the run.
const DRAIN: Duration = Duration::from_secs(10);

/// The load, from the environment: `FLEET_BENCH_HOSTS` (fleet sizes, comma-separated,
/// default 1,50,200), `FLEET_BENCH_BURST` (events, default 100) and
/// `FLEET_BENCH_BURST_EVERY_S` (default 10).
#[derive(Clone)]
struct Load {
    fleets: Vec<usize>,
    burst: usize,
    burst_every: Duration,
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
struct Measured {
    /// From each event's creation to its commit.
    to_commit: Vec<Duration>,
    persisted: usize,
    failed_beats: usize,
}

/// What the watcher of one host received.
#[derive(Default)]
struct Watched {
    /// From each event's creation to its arrival at the watching client.
    to_watcher: Vec<Duration>,
    missing: usize,
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

/// A real agent on the fleet's database (libvirt's test driver for its own host),
/// serving watches of the simulated hosts; stopped through the returned sender.
async fn watching_agent(url: &str) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench-watcher\"\n\
         [libvirt]\nuri = \"test:///default\"\nsave_dir = \"{}/save\"\n\
         [database]\nurl = \"{url}\"\nmax_connections = 5\n",
        dir.display()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("the watching agent");
    let addr = app.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// One host's watch: each event's latency from its creation, until as many events as
/// its agent persisted (told once the agent is done) arrived, or `DRAIN` passed.
async fn watch(
    mut stream: tonic::Streaming<pb::LifecycleEvent>,
    expected: oneshot::Receiver<usize>,
) -> Watched {
    let mut watched = Watched::default();
    let mut expected = std::pin::pin!(expected);
    let mut total: Option<usize> = None;
    let mut drain_until: Option<tokio::time::Instant> = None;
    loop {
        if total.is_some_and(|t| watched.to_watcher.len() >= t) {
            return watched;
        }
        let until = drain_until.unwrap_or_else(|| tokio::time::Instant::now() + RUN * 10);
        tokio::select! {
            message = stream.message() => {
                let event = message.expect("the watch goes on").expect("the stream stays open");
                let occurred = event.occurred_at.expect("occurred_at");
                let micros = occurred.seconds * 1_000_000 + i64::from(occurred.nanos) / 1000;
                let waited = u64::try_from(now_micros() - micros).unwrap_or_default();
                watched.to_watcher.push(Duration::from_micros(waited));
            }
            told = &mut expected, if total.is_none() => {
                total = Some(told.expect("the agent's count"));
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
            }
            () = tokio::time::sleep_until(until) => {
                watched.missing = total.unwrap_or_default().saturating_sub(watched.to_watcher.len());
                return watched;
            }
        }
    }
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
async fn agent(store: Store, hostname: String, load: Load, deadline: Instant) -> Measured {
    let queue: Arc<Mutex<Vec<(Instant, NewEvent)>>> = Arc::default();
    let wake = Arc::new(Notify::new());
    let producer = tokio::spawn(produce(
        Arc::clone(&queue),
        Arc::clone(&wake),
        load,
        deadline,
    ));
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
            .record_events(&hostname, &events, &known_changes(&events), &[])
            .await
            .expect("recorded");
        let committed = Instant::now();
        measured.persisted += batch.len();
        measured
            .to_commit
            .extend(batch.iter().map(|(created, _)| committed - *created));
    }
    measured.failed_beats = beats.await.expect("heartbeats");
    measured
}

async fn produce(
    queue: Arc<Mutex<Vec<(Instant, NewEvent)>>>,
    wake: Arc<Notify>,
    load: Load,
    deadline: Instant,
) {
    // Hosts start at random phases, and burst at their own, as real ones do.
    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..1000))).await;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_PER_HOST));
    let burst_phase = fastrand::u64(0..load.burst_every.as_millis() as u64);
    let mut next_burst = Instant::now() + Duration::from_millis(burst_phase);
    let mut n = 0_u64;
    while Instant::now() < deadline {
        tick.tick().await;
        let count = if Instant::now() >= next_burst {
            next_burst += load.burst_every;
            load.burst
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

/// The known states a recorder stores with its batch: each domain's last.
fn known_changes(events: &[NewEvent]) -> KnownChanges {
    let mut last: BTreeMap<&str, &NewEvent> = BTreeMap::new();
    for e in events {
        last.insert(&e.domain_uuid, e);
    }
    KnownChanges {
        upserts: last
            .values()
            .map(|e| KnownDomain {
                uuid: e.domain_uuid.clone(),
                name: e.domain_name.clone(),
                state: if e.kind == EventType::Started {
                    DomainState::Running
                } else {
                    DomainState::Shutoff
                },
                persistent: true,
            })
            .collect(),
        removals: Vec::new(),
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

/// CPU seconds spent by PostgreSQL's processes and by this one, and the machine's
/// busy time, from /proc (clock ticks of 1/100 s).
struct Cpu {
    database_s: f64,
    bench_s: f64,
    /// Busy share of all CPUs, over an interval (after `since`).
    busy_share: f64,
    cpus: usize,
    busy_s: f64,
    total_s: f64,
}

impl Cpu {
    fn now() -> Cpu {
        let ticks = |stat: &str| -> f64 {
            // Fields after the command name: utime and stime are the 12th and 13th.
            stat.rsplit(')')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .skip(11)
                .take(2)
                .map(|f| f.parse::<f64>().unwrap_or(0.0))
                .sum::<f64>()
                / 100.0
        };
        let mut database_s = 0.0;
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let path = entry.path();
            if std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim() == "postgres")
                && let Ok(stat) = std::fs::read_to_string(path.join("stat"))
            {
                database_s += ticks(&stat);
            }
        }
        let bench_s = ticks(&std::fs::read_to_string("/proc/self/stat").expect("own stat"));
        // The first line of /proc/stat: user nice system idle iowait irq softirq steal.
        let all = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
        let fields: Vec<f64> = all
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|f| f.parse().unwrap_or(0.0))
            .collect();
        let total_s = fields.iter().sum::<f64>() / 100.0;
        let idle_s = (fields[3] + fields[4]) / 100.0;
        Cpu {
            database_s,
            bench_s,
            busy_share: 0.0,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            busy_s: total_s - idle_s,
            total_s,
        }
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            database_s: self.database_s - before.database_s,
            bench_s: self.bench_s - before.bench_s,
            busy_share: (self.busy_s - before.busy_s) / (self.total_s - before.total_s).max(0.01),
            cpus: self.cpus,
            busy_s: 0.0,
            total_s: 0.0,
        }
    }
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
