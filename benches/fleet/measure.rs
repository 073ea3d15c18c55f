//! What the bench measures beside the events: `ListHosts`, the database's
//! connections, the CPU of each side, and the percentiles.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, Row};
use virtplane::{
    hypervisor::now_micros,
    store::{HostQuery, Store},
};

/// `ListHosts`' query, a first page of 100 up hosts, twice a second.
pub(crate) async fn list_hosts(store: Store, deadline: Instant) -> Vec<Duration> {
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
pub(crate) async fn peak_connections(url: String, db: String, deadline: Instant) -> i64 {
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
pub(crate) struct Cpu {
    pub(crate) database_s: f64,
    pub(crate) bench_s: f64,
    /// Busy share of all CPUs, over an interval (after `since`).
    pub(crate) busy_share: f64,
    pub(crate) cpus: usize,
    busy_s: f64,
    total_s: f64,
}

impl Cpu {
    pub(crate) fn now() -> Cpu {
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

    pub(crate) fn since(&self, before: &Cpu) -> Cpu {
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

pub(crate) fn percentile(values: &mut [Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[index]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
