//! Prometheus metrics on their own HTTP listener (`GET /metrics`).
//!
//! RPC counters and latency histograms are kept as calls finish; everything else
//! (libvirt, host, events, outbox, pools) is read from its owner at scrape time, so
//! no gauge can drift from the truth. The text format is written by hand: a few
//! dozen lines against a dependency and its registry abstractions.

use std::{
    collections::{BTreeMap, HashMap},
    convert::Infallible,
    fmt::Write as _,
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, sync::watch};
use tonic::Code;
use tracing::{debug, warn};

use crate::{
    amqp::Publisher, events::EventStats, grpc::code_name, host::HostController, http::HttpPools,
    hypervisor::Hypervisor, pool::PoolStats, store::Store,
};

/// Latency buckets in seconds: sub-millisecond in-process calls up to slow libvirt
/// operations and long streams.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
];
/// Distinct methods kept; a client inventing method names cannot grow the registry
/// past it (the rest count as method "other").
const MAX_METHODS: usize = 256;

#[derive(Debug, Clone, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// One method's series, indexed by status code (0..=16).
type ByCode = [Option<Series>; 17];

/// RPCs handled, by method and status code.
#[derive(Debug, Default)]
pub struct RpcMetrics {
    // Keyed by method alone so that a call looks its series up without allocating.
    series: Mutex<HashMap<String, Box<ByCode>>>,
}

impl RpcMetrics {
    /// Records one finished call.
    pub fn observe(&self, method: &str, code: Code, elapsed: Duration) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let codes = match series.get_mut(method) {
            Some(codes) => codes,
            None => {
                let key = if series.len() < MAX_METHODS {
                    method
                } else {
                    "other"
                };
                series.entry(key.to_owned()).or_default()
            }
        };
        let slot = usize::try_from(code as i32).unwrap_or(0).min(16);
        let entry = codes[slot].get_or_insert_with(Series::default);
        let seconds = elapsed.as_secs_f64();
        entry.count += 1;
        entry.sum += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let series: BTreeMap<(String, &'static str), Series> = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .flat_map(|(method, codes)| {
                codes.iter().enumerate().filter_map(move |(code, series)| {
                    let code = code_name(Code::from_i32(i32::try_from(code).unwrap_or(2)));
                    series.clone().map(|s| ((method.clone(), code), s))
                })
            })
            .collect();
        header(
            out,
            "virtplane_rpc_requests_total",
            "counter",
            "RPCs handled, by method and gRPC status code.",
        );
        for ((method, code), s) in &series {
            let _ = writeln!(
                out,
                "virtplane_rpc_requests_total{{method=\"{}\",code=\"{code}\"}} {}",
                escape(method),
                s.count
            );
        }
        header(
            out,
            "virtplane_rpc_duration_seconds",
            "histogram",
            "RPC latency (for streams: their lifetime), by method and gRPC status code.",
        );
        for ((method, code), s) in &series {
            let labels = format!("method=\"{}\",code=\"{code}\"", escape(method));
            for (count, bound) in s.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "virtplane_rpc_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "virtplane_rpc_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "virtplane_rpc_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "virtplane_rpc_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

/// Everything a scrape reads.
#[derive(Debug, Clone)]
pub struct MetricsSources {
    pub rpc: Arc<RpcMetrics>,
    pub hypervisor: Arc<Hypervisor>,
    pub host: Arc<HostController>,
    pub events: Arc<EventStats>,
    pub store: Store,
    /// Every outbox sink configured, so an empty backlog still shows as 0.
    pub sinks: Vec<String>,
    pub publisher: Arc<Publisher>,
    pub http: Arc<HttpPools>,
}

impl MetricsSources {
    /// The exposition text.
    pub async fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.rpc.render(&mut out);

        let status = self.hypervisor.status();
        gauge(
            &mut out,
            "virtplane_libvirt_connected",
            "1 while the libvirt connection is alive.",
            u64::from(status.connected),
        );
        counter(
            &mut out,
            "virtplane_libvirt_connect_attempts_total",
            "libvirt connect attempts.",
            status.connect_attempts,
        );
        counter(
            &mut out,
            "virtplane_libvirt_connect_failures_total",
            "libvirt connect attempts that failed.",
            status.connect_failures,
        );
        counter(
            &mut out,
            "virtplane_libvirt_reconnects_total",
            "Successful connects after the first.",
            status.reconnects,
        );
        match self.host.record().await {
            Ok(record) => gauge(
                &mut out,
                "virtplane_host_enabled",
                "1 while the host accepts new domains.",
                u64::from(record.enabled),
            ),
            Err(e) => debug!(error = %e, "host state not available for metrics"),
        }
        counter(
            &mut out,
            "virtplane_lifecycle_events_recorded_total",
            "Lifecycle events stored (observed and synthetic).",
            self.events.recorded.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "virtplane_lifecycle_event_resyncs_total",
            "Event queue overflows that forced a reconciliation.",
            self.events.resyncs.load(Ordering::Relaxed),
        );

        let mut backlog: BTreeMap<String, i64> =
            self.sinks.iter().map(|s| (s.clone(), 0)).collect();
        match self.store.outbox_backlog(self.host.hostname()).await {
            Ok(rows) => backlog.extend(rows),
            Err(e) => debug!(error = %e, "outbox backlog not available for metrics"),
        }
        header(
            &mut out,
            "virtplane_outbox_backlog",
            "gauge",
            "Notifications waiting for delivery, by sink.",
        );
        for (sink, waiting) in backlog {
            let _ = writeln!(
                out,
                "virtplane_outbox_backlog{{sink=\"{}\"}} {waiting}",
                escape(&sink)
            );
        }

        let pools: Vec<PoolStats> = self
            .publisher
            .pool_stats()
            .into_iter()
            .chain(self.http.stats())
            .collect();
        render_pools(&mut out, &pools);
        out
    }
}

fn render_pools(out: &mut String, pools: &[PoolStats]) {
    type Field = fn(&PoolStats) -> u64;
    let gauges: [(&str, &str, Field); 5] = [
        (
            "virtplane_pool_max_size",
            "Connections a pool allows.",
            |p| p.max_size as u64,
        ),
        ("virtplane_pool_connections", "Connections open.", |p| {
            p.size as u64
        }),
        (
            "virtplane_pool_idle_connections",
            "Connections open and idle.",
            |p| p.idle as u64,
        ),
        (
            "virtplane_pool_in_use_connections",
            "Connections checked out.",
            |p| p.in_use as u64,
        ),
        (
            "virtplane_pool_waiters",
            "Callers waiting for a connection.",
            |p| p.waiters as u64,
        ),
    ];
    let counters: [(&str, &str, Field); 3] = [
        (
            "virtplane_pool_connections_opened_total",
            "Connections opened.",
            |p| p.opened,
        ),
        (
            "virtplane_pool_connections_discarded_total",
            "Connections closed as broken, dropped by the peer or beyond a full pool.",
            |p| p.discarded,
        ),
        ("virtplane_pool_requests_total", "Checkouts served.", |p| {
            p.requests
        }),
    ];
    for (kind, list) in [("gauge", &gauges[..]), ("counter", &counters[..])] {
        for (name, help, field) in list {
            header(out, name, kind, help);
            for pool in pools {
                let _ = writeln!(
                    out,
                    "{name}{{kind=\"{}\",pool=\"{}\"}} {}",
                    pool.kind,
                    escape(&pool.key),
                    field(pool)
                );
            }
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

/// Label values: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `GET /metrics` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    sources: MetricsSources,
    mut stop: watch::Receiver<bool>,
) {
    let sources = Arc::new(sources);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn!(error = %e, "metrics listener cannot accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = async { let _ = stop.wait_for(|stopped| *stopped).await; } => break,
        };
        let sources = Arc::clone(&sources);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let sources = Arc::clone(&sources);
                async move { Ok::<_, Infallible>(answer(&sources, &request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(sources: &MetricsSources, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            Bytes::from(sources.render().await),
        ),
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Bytes::from_static(b"use GET\n"),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"metrics are at /metrics\n"),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_series_are_bounded() {
        let rpc = RpcMetrics::default();
        rpc.observe("/a.B/C", Code::Ok, Duration::from_micros(300));
        rpc.observe("/a.B/C", Code::Ok, Duration::from_millis(20));
        let mut out = String::new();
        rpc.render(&mut out);
        assert!(out.contains("virtplane_rpc_requests_total{method=\"/a.B/C\",code=\"OK\"} 2"));
        assert!(out.contains("le=\"0.0005\"} 1"), "{out}");
        assert!(out.contains("le=\"0.025\"} 2"), "{out}");
        assert!(out.contains("le=\"+Inf\"} 2"), "{out}");
        for i in 0..(MAX_METHODS + 10) {
            rpc.observe(&format!("/x.Y/M{i}"), Code::Unimplemented, Duration::ZERO);
        }
        let mut out = String::new();
        rpc.render(&mut out);
        assert!(out.contains("method=\"other\""));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
