//! Domain statistics from libvirt's bulk API: one round trip for every domain
//! (`virConnectGetAllDomainStats`), `NOWAIT` so a domain busy with another job does
//! not hold up the others; its record then lacks the sampled groups.

use std::collections::BTreeMap;

use virt::{connect::Connect, sys};

use crate::{
    hypervisor::{
        Admission, HypervisorError, Operation, Retry,
        domain::lookup,
        ffi::{self, ParamValue, StatsRecord},
    },
    model::{
        BalloonStats, BlockStats, CpuStats, DomainRef, DomainState, DomainStats, GuestMemory,
        InterfaceStats, VcpuStats,
    },
};

/// The groups sampled: state, CPU, vCPUs, balloon, block and interface counters.
const GROUPS: u32 = sys::VIR_DOMAIN_STATS_STATE
    | sys::VIR_DOMAIN_STATS_CPU_TOTAL
    | sys::VIR_DOMAIN_STATS_BALLOON
    | sys::VIR_DOMAIN_STATS_VCPU
    | sys::VIR_DOMAIN_STATS_INTERFACE
    | sys::VIR_DOMAIN_STATS_BLOCK;
/// Inactive domains too (with their state); a busy domain is skipped, not waited for.
const FLAGS: u32 = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
    | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE
    | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;

/// A sample of every domain, ordered by name.
#[derive(Debug, Clone, Copy)]
pub struct ListDomainStats;

impl Operation for ListDomainStats {
    type Output = Vec<Sampled>;
    const NAME: &'static str = "list domain stats";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let records = ffi::all_domain_stats(conn, GROUPS, FLAGS)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        let mut sampled: Vec<Sampled> = records.into_iter().map(parse).collect();
        sampled.sort_by(|a, b| a.stats.name.cmp(&b.stats.name));
        Ok(sampled)
    }
}

/// A sample of one domain.
#[derive(Debug, Clone)]
pub struct GetDomainStats(pub DomainRef);

impl Operation for GetDomainStats {
    type Output = Sampled;
    const NAME: &'static str = "get domain stats";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = lookup(conn, &self.0)?;
        let flags = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
        let record = ffi::domain_stats(&dom, GROUPS, flags)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?
            .ok_or_else(|| HypervisorError::DomainNotFound {
                domain: self.0.clone(),
            })?;
        Ok(parse(record))
    }
}

/// A domain's sample, and whether libvirt sampled its running state.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    pub stats: DomainStats,
    /// The record holds every group libvirt samples for this domain. A domain whose
    /// monitor is busy with another job comes back from a `NOWAIT` call without its
    /// block counters and balloon RSS; an inactive domain, and every domain of a
    /// driver that samples nothing more (the test driver: state only), never hold
    /// them.
    pub sampled: bool,
}

/// Reads one record's `group.N.field` parameters into the model.
fn parse(record: StatsRecord) -> Sampled {
    let StatsRecord { uuid, name, params } = record;
    let p: BTreeMap<String, ParamValue> = params.into_iter().collect();
    let num = |key: &str| match p.get(key) {
        Some(ParamValue::UInt(v)) => *v,
        Some(ParamValue::Int(v)) => u64::try_from(*v).unwrap_or(0),
        Some(ParamValue::Double(v)) => *v as u64,
        _ => 0,
    };
    let text = |key: &str| match p.get(key) {
        Some(ParamValue::Text(t)) => t.clone(),
        _ => String::new(),
    };
    let count = |key: &str| usize::try_from(num(key)).unwrap_or(0);
    let state = DomainState::from_number(num("state.state"));
    let vcpu_max = u32::try_from(num("vcpu.maximum")).unwrap_or(0);
    let stats = DomainStats {
        uuid,
        name,
        state,
        cpu: CpuStats {
            time_ns: num("cpu.time"),
            user_ns: num("cpu.user"),
            system_ns: num("cpu.system"),
        },
        vcpu: VcpuStats {
            current: u32::try_from(num("vcpu.current")).unwrap_or(0),
            maximum: vcpu_max,
            times_ns: (0..vcpu_max)
                .map(|i| num(&format!("vcpu.{i}.time")))
                .collect(),
        },
        balloon: BalloonStats {
            current_kib: num("balloon.current"),
            maximum_kib: num("balloon.maximum"),
            rss_kib: num("balloon.rss"),
            guest: p.contains_key("balloon.available").then(|| GuestMemory {
                available_kib: num("balloon.available"),
                usable_kib: num("balloon.usable"),
                unused_kib: num("balloon.unused"),
            }),
        },
        blocks: (0..count("block.count"))
            .map(|i| {
                let k = |f: &str| format!("block.{i}.{f}");
                BlockStats {
                    name: text(&k("name")),
                    path: text(&k("path")),
                    read_requests: num(&k("rd.reqs")),
                    read_bytes: num(&k("rd.bytes")),
                    write_requests: num(&k("wr.reqs")),
                    write_bytes: num(&k("wr.bytes")),
                    errors: num(&k("errors")),
                    allocation_bytes: num(&k("allocation")),
                    capacity_bytes: num(&k("capacity")),
                }
            })
            .collect(),
        interfaces: (0..count("net.count"))
            .map(|i| {
                let k = |f: &str| format!("net.{i}.{f}");
                InterfaceStats {
                    name: text(&k("name")),
                    rx_bytes: num(&k("rx.bytes")),
                    rx_packets: num(&k("rx.pkts")),
                    rx_errors: num(&k("rx.errs")),
                    rx_drops: num(&k("rx.drop")),
                    tx_bytes: num(&k("tx.bytes")),
                    tx_packets: num(&k("tx.pkts")),
                    tx_errors: num(&k("tx.errs")),
                    tx_drops: num(&k("tx.drop")),
                }
            })
            .collect(),
        stale: false,
        age_ms: 0,
    };
    Sampled {
        sampled: sampled_in_full(&p, &stats),
        stats,
    }
}

/// Whether the record holds the groups a busy domain lacks: with `NOWAIT`, QEMU
/// answers a domain whose monitor is taken by another job with what it reads outside
/// the monitor (CPU times, vCPUs), without block counters or the balloon's RSS.
fn sampled_in_full(p: &BTreeMap<String, ParamValue>, stats: &DomainStats) -> bool {
    p.contains_key("cpu.time")
        // Any disk: an empty CD-ROM drive has no counters even when sampled.
        && (stats.blocks.is_empty()
            || (0..stats.blocks.len()).any(|i| p.contains_key(&format!("block.{i}.rd.reqs"))))
        && (!p.contains_key("balloon.current") || p.contains_key("balloon.rss"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(params: &[(&str, ParamValue)]) -> StatsRecord {
        StatsRecord {
            uuid: "u".into(),
            name: "vm".into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn indexed_groups_are_read_into_devices() {
        use ParamValue::{Text, UInt};
        let sampled = parse(record(&[
            ("state.state", UInt(1)),
            ("cpu.time", UInt(5_000)),
            ("block.0.rd.reqs", UInt(2)),
            ("vcpu.current", UInt(1)),
            ("vcpu.maximum", UInt(2)),
            ("vcpu.0.time", UInt(7)),
            ("block.count", UInt(1)),
            ("block.0.name", Text("vda".into())),
            ("block.0.rd.bytes", UInt(4096)),
            ("net.count", UInt(1)),
            ("net.0.name", Text("vnet0".into())),
            ("net.0.tx.pkts", UInt(3)),
        ]));
        assert!(sampled.sampled);
        let stats = sampled.stats;
        assert_eq!(stats.state, DomainState::Running);
        assert_eq!(stats.vcpu.times_ns, [7, 0]);
        assert_eq!(
            (stats.blocks[0].name.as_str(), stats.blocks[0].read_bytes),
            ("vda", 4096)
        );
        assert_eq!(stats.interfaces[0].tx_packets, 3);
        assert_eq!(stats.balloon.guest, None);
    }

    #[test]
    fn a_busy_domain_without_block_counters_or_rss_is_not_sampled_in_full() {
        use ParamValue::{Text, UInt};
        let busy = parse(record(&[
            ("state.state", UInt(1)),
            ("cpu.time", UInt(5_000)),
            ("balloon.current", UInt(1024)),
            ("block.count", UInt(1)),
            ("block.0.name", Text("vda".into())),
        ]));
        assert!(!busy.sampled);
    }

    #[test]
    fn a_record_with_its_state_only_is_not_sampled() {
        let state_only = parse(record(&[("state.state", ParamValue::Int(3))]));
        assert!(!state_only.sampled);
        assert_eq!(state_only.stats.state, DomainState::Paused);
    }
}
