//! What a domain uses, sampled: CPU, vCPUs, memory, disks and interfaces.

use super::DomainState;

/// One domain's sample. Counters are cumulative since the domain started.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainStats {
    pub uuid: String,
    pub name: String,
    pub state: DomainState,
    pub cpu: CpuStats,
    pub vcpu: VcpuStats,
    pub balloon: BalloonStats,
    pub blocks: Vec<BlockStats>,
    pub interfaces: Vec<InterfaceStats>,
    /// libvirt could not sample the domain this time (busy): the values are the last
    /// good ones, `age_ms` old.
    pub stale: bool,
    /// How old the values are, in milliseconds (0 when sampled by this call).
    pub age_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuStats {
    pub time_ns: u64,
    pub user_ns: u64,
    pub system_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VcpuStats {
    pub current: u32,
    pub maximum: u32,
    /// Time each vCPU ran, by vCPU number.
    pub times_ns: Vec<u64>,
}

/// Memory, in KiB. The guest's own figures are there only when its balloon driver
/// reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BalloonStats {
    pub current_kib: u64,
    pub maximum_kib: u64,
    pub rss_kib: u64,
    pub guest: Option<GuestMemory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuestMemory {
    pub available_kib: u64,
    pub usable_kib: u64,
    pub unused_kib: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockStats {
    /// The target device (`vda`).
    pub name: String,
    /// The source file or device, when it has one.
    pub path: String,
    pub read_requests: u64,
    pub read_bytes: u64,
    pub write_requests: u64,
    pub write_bytes: u64,
    pub errors: u64,
    pub allocation_bytes: u64,
    pub capacity_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceStats {
    /// The host-side device (`vnet0`).
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_drops: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_drops: u64,
}
