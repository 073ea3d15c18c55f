//! Domain statistics, to the API.

use crate::{
    grpc::pb,
    model::{
        BalloonStats, BlockStats, CpuStats, DomainStats, GuestMemory, InterfaceStats, VcpuStats,
    },
};

impl From<DomainStats> for pb::DomainStats {
    fn from(stats: DomainStats) -> Self {
        let DomainStats {
            uuid,
            name,
            state,
            cpu,
            vcpu,
            balloon,
            blocks,
            interfaces,
            stale,
            age_ms,
        } = stats;
        let CpuStats {
            time_ns,
            user_ns,
            system_ns,
        } = cpu;
        let VcpuStats {
            current,
            maximum,
            times_ns,
        } = vcpu;
        pb::DomainStats {
            uuid,
            name,
            state: pb::DomainState::from(state).into(),
            cpu: Some(pb::CpuStats {
                time_ns,
                user_ns,
                system_ns,
            }),
            vcpu: Some(pb::VcpuStats {
                current,
                maximum,
                times_ns,
            }),
            balloon: Some(balloon.into()),
            blocks: blocks.into_iter().map(Into::into).collect(),
            interfaces: interfaces.into_iter().map(Into::into).collect(),
            stale,
            age_ms,
        }
    }
}

impl From<BalloonStats> for pb::BalloonStats {
    fn from(balloon: BalloonStats) -> Self {
        let BalloonStats {
            current_kib,
            maximum_kib,
            rss_kib,
            guest,
        } = balloon;
        pb::BalloonStats {
            current_kib,
            maximum_kib,
            rss_kib,
            guest: guest.map(
                |GuestMemory {
                     available_kib,
                     usable_kib,
                     unused_kib,
                 }| pb::GuestMemory {
                    available_kib,
                    usable_kib,
                    unused_kib,
                },
            ),
        }
    }
}

impl From<BlockStats> for pb::BlockStats {
    fn from(block: BlockStats) -> Self {
        let BlockStats {
            name,
            path,
            read_requests,
            read_bytes,
            write_requests,
            write_bytes,
            errors,
            allocation_bytes,
            capacity_bytes,
        } = block;
        pb::BlockStats {
            name,
            path,
            read_requests,
            read_bytes,
            write_requests,
            write_bytes,
            errors,
            allocation_bytes,
            capacity_bytes,
        }
    }
}

impl From<InterfaceStats> for pb::InterfaceStats {
    fn from(net: InterfaceStats) -> Self {
        let InterfaceStats {
            name,
            rx_bytes,
            rx_packets,
            rx_errors,
            rx_drops,
            tx_bytes,
            tx_packets,
            tx_errors,
            tx_drops,
        } = net;
        pb::InterfaceStats {
            name,
            rx_bytes,
            rx_packets,
            rx_errors,
            rx_drops,
            tx_bytes,
            tx_packets,
            tx_errors,
            tx_drops,
        }
    }
}
