//! Closed-loop load: a number of callers, each on its own HTTP/2 connection (as a
//! load tool's virtual users are), calling as fast as answers come for a fixed time.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use tonic::transport::Channel;

/// What a run achieved.
pub(crate) struct Throughput {
    pub(crate) calls: usize,
    pub(crate) seconds: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

impl Throughput {
    pub(crate) fn per_second(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
}

/// Runs `callers` loops of `call` over their own channels to `addr` for `window`,
/// after a short warm-up, and reports calls completed inside the window.
pub(crate) async fn closed_loop<F, Fut>(
    addr: &str,
    callers: usize,
    window: Duration,
    call: F,
) -> Throughput
where
    F: Fn(Channel) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let mut channels = Vec::with_capacity(callers);
    for _ in 0..callers {
        channels.push(
            Channel::from_shared(addr.to_owned())
                .expect("address")
                .connect()
                .await
                .expect("connect"),
        );
    }
    for channel in &channels {
        call(channel.clone()).await;
    }
    let started = Instant::now();
    let until = started + window;
    let tasks: Vec<_> = channels
        .into_iter()
        .map(|channel| {
            let call = Arc::clone(&call);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let began = Instant::now();
                    if began >= until {
                        break;
                    }
                    call(channel.clone()).await;
                    latencies.push(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("caller"));
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Throughput {
        calls: latencies.len(),
        seconds,
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// Percentiles of a set of samples, in milliseconds: p50, p99, max.
pub(crate) fn percentiles(samples: &[Duration]) -> (f64, f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |p: f64| sorted[((sorted.len() as f64 - 1.0) * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(at(0.50)), ms(at(0.99)), ms(at(1.0)))
}

/// CPU time used so far by this process's threads named `name` (all of them when
/// `None`), from /proc (clock ticks of 10 ms).
pub(crate) fn cpu_time(name: Option<&str>) -> Duration {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let dir = task.expect("task").path();
        if let Some(name) = name {
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // Fields after the command name, which may hold spaces: utime, stime are
        // the 14th and 15th of the line, the 12th and 13th after ")".
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        for i in [11, 12] {
            ticks += fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_millis(ticks * 10)
}
