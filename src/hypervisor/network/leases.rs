//! The DHCP leases libvirt's DHCP server handed out on a network.

use std::net::IpAddr;

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{
        Admission, HypervisorError, Operation, Retry,
        ffi::{self, LeaseRecord},
    },
    model::{DhcpLease, IpFamily, MacAddress, NetworkRef},
};

/// A network's leases that have not expired, only those of `mac` when given,
/// ordered by address.
#[derive(Debug, Clone)]
pub struct ListNetworkLeases {
    pub network: NetworkRef,
    pub mac: Option<MacAddress>,
}

impl Operation for ListNetworkLeases {
    type Output = Vec<DhcpLease>;
    const NAME: &'static str = "list network leases";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let net = libvirt::lookup(conn, &self.network)?;
        let records =
            ffi::dhcp_leases(&net, self.mac.as_ref().map(MacAddress::as_str)).map_err(|e| {
                match HypervisorError::from_virt(Self::NAME, &e) {
                    // Undefined between the lookup and the read.
                    HypervisorError::NotFound { .. } => {
                        libvirt::not_found(Self::NAME, &self.network)
                    }
                    other => other,
                }
            })?;
        let mut leases: Vec<DhcpLease> = records.into_iter().map(lease).collect();
        leases.sort_by_key(|l| (l.ip.parse::<IpAddr>().ok(), l.ip.clone(), l.mac.clone()));
        Ok(leases)
    }
}

fn lease(record: LeaseRecord) -> DhcpLease {
    let LeaseRecord {
        interface,
        expiry_time,
        ipv6,
        mac,
        iaid,
        ip,
        prefix,
        hostname,
        client_id,
    } = record;
    DhcpLease {
        mac: mac.to_ascii_lowercase(),
        ip,
        family: if ipv6 { IpFamily::V6 } else { IpFamily::V4 },
        prefix,
        hostname: hostname.filter(|h| !h.is_empty()),
        client_id: client_id.filter(|c| !c.is_empty()),
        iaid: iaid.filter(|i| !i.is_empty()),
        interface,
        // dnsmasq writes 0 for a lease that never expires.
        expires_at_s: (expiry_time > 0).then_some(expiry_time),
    }
}
