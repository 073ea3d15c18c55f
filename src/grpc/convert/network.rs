//! Networks and their DHCP leases, to the API.

use crate::{
    grpc::pb,
    model::{DhcpLease, DhcpRange, ForwardMode, IpFamily, NetworkAddress, NetworkInfo},
};

impl From<NetworkInfo> for pb::Network {
    fn from(info: NetworkInfo) -> Self {
        let NetworkInfo {
            uuid,
            name,
            bridge,
            forward,
            active,
            persistent,
            autostart,
            addresses,
        } = info;
        pb::Network {
            uuid,
            name,
            bridge: bridge.unwrap_or_default(),
            forward_mode: pb::ForwardMode::from(forward).into(),
            active,
            persistent,
            autostart,
            addresses: addresses.into_iter().map(address).collect(),
        }
    }
}

impl From<DhcpLease> for pb::NetworkLease {
    fn from(lease: DhcpLease) -> Self {
        let DhcpLease {
            mac,
            ip,
            family,
            prefix,
            hostname,
            client_id,
            iaid,
            interface,
            expires_at_s,
        } = lease;
        pb::NetworkLease {
            mac,
            ip,
            family: pb::IpFamily::from(family).into(),
            prefix,
            hostname: hostname.unwrap_or_default(),
            client_id: client_id.unwrap_or_default(),
            iaid: iaid.unwrap_or_default(),
            interface,
            expire_time: expires_at_s.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        }
    }
}

impl From<ForwardMode> for pb::ForwardMode {
    fn from(mode: ForwardMode) -> Self {
        match mode {
            ForwardMode::Isolated => pb::ForwardMode::Isolated,
            ForwardMode::Nat => pb::ForwardMode::Nat,
            ForwardMode::Route => pb::ForwardMode::Route,
            ForwardMode::Open => pb::ForwardMode::Open,
            ForwardMode::Bridge => pb::ForwardMode::Bridge,
            ForwardMode::Private => pb::ForwardMode::Private,
            ForwardMode::Vepa => pb::ForwardMode::Vepa,
            ForwardMode::Passthrough => pb::ForwardMode::Passthrough,
            ForwardMode::Hostdev => pb::ForwardMode::Hostdev,
        }
    }
}

impl From<IpFamily> for pb::IpFamily {
    fn from(family: IpFamily) -> Self {
        match family {
            IpFamily::V4 => pb::IpFamily::Ipv4,
            IpFamily::V6 => pb::IpFamily::Ipv6,
        }
    }
}

fn address(address: NetworkAddress) -> pb::NetworkAddress {
    let NetworkAddress {
        family,
        address,
        prefix,
        dhcp_ranges,
    } = address;
    pb::NetworkAddress {
        family: pb::IpFamily::from(family).into(),
        address,
        prefix,
        dhcp_ranges: dhcp_ranges
            .into_iter()
            .map(|DhcpRange { start, end }| pb::DhcpRange { start, end })
            .collect(),
    }
}
