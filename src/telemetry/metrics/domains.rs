//! Per-domain series, as prometheus-libvirt-exporter exports them: from one bulk
//! stats call (`NOWAIT`: a busy domain does not hold up the scrape), shared by the
//! scrapes of a few seconds, and labelled only with the host's own domains and their
//! devices.

use std::{
    fmt::Write as _,
    sync::Arc,
    time::{Duration, Instant},
};

use tracing::debug;

use super::text::{escape, header};
use crate::{
    hypervisor::{Hypervisor, ListDomainStats, Sampled},
    model::DomainStats,
};

/// Scrapes within this time of a sample share it: one bulk call per interval at most.
const MAX_AGE: Duration = Duration::from_secs(5);
/// A scrape waits this long for libvirt, then answers with the previous sample.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The per-domain series and the sample they are rendered from.
#[derive(Debug)]
pub struct DomainSeries {
    hypervisor: Arc<Hypervisor>,
    last: tokio::sync::Mutex<Option<(Instant, Arc<Vec<Sampled>>)>>,
}

impl DomainSeries {
    pub fn new(hypervisor: Arc<Hypervisor>) -> Self {
        DomainSeries {
            hypervisor,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// Appends every domain's series.
    pub(super) async fn render(&self, out: &mut String) {
        let sampled = self.sample().await;
        render(out, &sampled);
    }

    /// The current sample: the last one while fresh, else a new bulk call (concurrent
    /// scrapes wait for the one in flight); the last one when libvirt does not answer.
    async fn sample(&self) -> Arc<Vec<Sampled>> {
        let mut last = self.last.lock().await;
        if let Some((at, sampled)) = last.as_ref()
            && at.elapsed() < MAX_AGE
        {
            return Arc::clone(sampled);
        }
        let fresh =
            tokio::time::timeout(SAMPLE_TIMEOUT, self.hypervisor.run(ListDomainStats)).await;
        match fresh {
            Ok(Ok(sampled)) => {
                let sampled = Arc::new(sampled);
                *last = Some((Instant::now(), Arc::clone(&sampled)));
                sampled
            }
            Ok(Err(e)) => {
                debug!(error = %e, "domain stats not available for metrics");
                last.as_ref()
                    .map(|(_, s)| Arc::clone(s))
                    .unwrap_or_default()
            }
            Err(_) => {
                debug!("domain stats took too long; the previous sample is served");
                last.as_ref()
                    .map(|(_, s)| Arc::clone(s))
                    .unwrap_or_default()
            }
        }
    }
}

/// One family: its header, then a line per domain (and device) that has a value.
fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    lines: impl IntoIterator<Item = (String, f64)>,
) {
    let mut lines = lines.into_iter().peekable();
    if lines.peek().is_none() {
        return;
    }
    header(out, name, kind, help);
    for (labels, value) in lines {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

fn labels(stats: &DomainStats) -> String {
    format!(
        "domain=\"{}\",uuid=\"{}\"",
        escape(&stats.name),
        escape(&stats.uuid)
    )
}

fn render(out: &mut String, sampled: &[Sampled]) {
    let all = || sampled.iter().map(|s| &s.stats);
    // Counters only where libvirt sampled them: a busy domain's series pause rather
    // than fall to zero (which Prometheus would read as a counter reset).
    // An inactive domain has no counters to speak of (libvirt still reports its
    // configured vCPUs): only its info and state.
    let live = || {
        sampled
            .iter()
            .filter(|s| s.sampled)
            .filter(|s| !s.stats.state.is_off())
            .map(|s| &s.stats)
    };
    family(
        out,
        "virtplane_domain_info",
        "gauge",
        "1 for each domain on the host, labelled with its name and UUID.",
        all().map(|s| (labels(s), 1.0)),
    );
    family(
        out,
        "virtplane_domain_state",
        "gauge",
        "The domain's state, as libvirt's virDomainState number (1 running, 3 paused, 5 shut off).",
        all().map(|s| (labels(s), f64::from(s.state.number()))),
    );
    render_cpu(out, &live);
    render_memory(out, &live);
    render_blocks(out, &live);
    render_interfaces(out, &live);
}

fn render_cpu<'a, I: Iterator<Item = &'a DomainStats>>(out: &mut String, live: &impl Fn() -> I) {
    let secs = |ns: u64| ns as f64 / 1e9;
    for (name, help, value) in [
        (
            "virtplane_domain_cpu_seconds_total",
            "CPU time used by the domain.",
            (|s: &DomainStats| s.cpu.time_ns) as fn(&DomainStats) -> u64,
        ),
        (
            "virtplane_domain_cpu_user_seconds_total",
            "CPU time in user mode.",
            |s| s.cpu.user_ns,
        ),
        (
            "virtplane_domain_cpu_system_seconds_total",
            "CPU time in system mode.",
            |s| s.cpu.system_ns,
        ),
    ] {
        family(
            out,
            name,
            "counter",
            help,
            live().map(|s| (labels(s), secs(value(s)))),
        );
    }
    family(
        out,
        "virtplane_domain_vcpus",
        "gauge",
        "The domain's current vCPUs.",
        live().map(|s| (labels(s), f64::from(s.vcpu.current))),
    );
    family(
        out,
        "virtplane_domain_vcpus_maximum",
        "gauge",
        "The domain's maximum vCPUs.",
        live().map(|s| (labels(s), f64::from(s.vcpu.maximum))),
    );
    family(
        out,
        "virtplane_domain_vcpu_seconds_total",
        "counter",
        "Time each vCPU ran.",
        live().flat_map(|s| {
            s.vcpu
                .times_ns
                .iter()
                .enumerate()
                .map(move |(i, ns)| (format!("{},vcpu=\"{i}\"", labels(s)), secs(*ns)))
        }),
    );
}

fn render_memory<'a, I: Iterator<Item = &'a DomainStats>>(out: &mut String, live: &impl Fn() -> I) {
    let bytes = |kib: u64| (kib * 1024) as f64;
    for (name, help, value) in [
        (
            "virtplane_domain_memory_current_bytes",
            "Memory the balloon gives the domain.",
            (|s: &DomainStats| s.balloon.current_kib) as fn(&DomainStats) -> u64,
        ),
        (
            "virtplane_domain_memory_maximum_bytes",
            "The domain's maximum memory.",
            |s| s.balloon.maximum_kib,
        ),
        (
            "virtplane_domain_memory_rss_bytes",
            "Resident memory of the domain's process.",
            |s| s.balloon.rss_kib,
        ),
    ] {
        family(
            out,
            name,
            "gauge",
            help,
            live().map(|s| (labels(s), bytes(value(s)))),
        );
    }
    family(
        out,
        "virtplane_domain_memory_usable_bytes",
        "gauge",
        "Memory the guest could use without swapping, as its balloon driver reports.",
        live().filter_map(|s| Some((labels(s), bytes(s.balloon.guest?.usable_kib)))),
    );
}

fn render_blocks<'a, I: Iterator<Item = &'a DomainStats>>(out: &mut String, live: &impl Fn() -> I) {
    type Field = fn(&crate::model::BlockStats) -> u64;
    let rows: [(&str, &str, &str, Field); 7] = [
        (
            "virtplane_domain_block_read_bytes_total",
            "counter",
            "Bytes read from the device.",
            |b| b.read_bytes,
        ),
        (
            "virtplane_domain_block_read_requests_total",
            "counter",
            "Read requests.",
            |b| b.read_requests,
        ),
        (
            "virtplane_domain_block_write_bytes_total",
            "counter",
            "Bytes written to the device.",
            |b| b.write_bytes,
        ),
        (
            "virtplane_domain_block_write_requests_total",
            "counter",
            "Write requests.",
            |b| b.write_requests,
        ),
        (
            "virtplane_domain_block_errors_total",
            "counter",
            "Requests that failed.",
            |b| b.errors,
        ),
        (
            "virtplane_domain_block_allocation_bytes",
            "gauge",
            "Host storage the device's image occupies.",
            |b| b.allocation_bytes,
        ),
        (
            "virtplane_domain_block_capacity_bytes",
            "gauge",
            "The device's size as the guest sees it.",
            |b| b.capacity_bytes,
        ),
    ];
    for (name, kind, help, value) in rows {
        family(
            out,
            name,
            kind,
            help,
            live().flat_map(|s| {
                s.blocks.iter().map(move |b| {
                    (
                        format!("{},device=\"{}\"", labels(s), escape(&b.name)),
                        value(b) as f64,
                    )
                })
            }),
        );
    }
}

fn render_interfaces<'a, I: Iterator<Item = &'a DomainStats>>(
    out: &mut String,
    live: &impl Fn() -> I,
) {
    type Field = fn(&crate::model::InterfaceStats) -> u64;
    let rows: [(&str, &str, Field); 8] = [
        (
            "virtplane_domain_interface_receive_bytes_total",
            "Bytes received.",
            |n| n.rx_bytes,
        ),
        (
            "virtplane_domain_interface_receive_packets_total",
            "Packets received.",
            |n| n.rx_packets,
        ),
        (
            "virtplane_domain_interface_receive_errors_total",
            "Receive errors.",
            |n| n.rx_errors,
        ),
        (
            "virtplane_domain_interface_receive_drops_total",
            "Received packets dropped.",
            |n| n.rx_drops,
        ),
        (
            "virtplane_domain_interface_transmit_bytes_total",
            "Bytes sent.",
            |n| n.tx_bytes,
        ),
        (
            "virtplane_domain_interface_transmit_packets_total",
            "Packets sent.",
            |n| n.tx_packets,
        ),
        (
            "virtplane_domain_interface_transmit_errors_total",
            "Transmit errors.",
            |n| n.tx_errors,
        ),
        (
            "virtplane_domain_interface_transmit_drops_total",
            "Sent packets dropped.",
            |n| n.tx_drops,
        ),
    ];
    for (name, help, value) in rows {
        family(
            out,
            name,
            "counter",
            help,
            live().flat_map(|s| {
                s.interfaces.iter().map(move |n| {
                    (
                        format!("{},device=\"{}\"", labels(s), escape(&n.name)),
                        value(n) as f64,
                    )
                })
            }),
        );
    }
}
