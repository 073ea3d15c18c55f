//! RPCs handled, counted and timed by method and status code as calls finish.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    sync::Mutex,
    time::Duration,
};

use tonic::Code;

use super::text::{escape, header};
use crate::telemetry::code_name;

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

    pub(super) fn render(&self, out: &mut String) {
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
    }
}
