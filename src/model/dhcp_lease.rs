//! DHCP leases of a network.

use super::IpFamily;

/// An address a guest leased from a network's DHCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpLease {
    pub mac: String,
    pub ip: String,
    pub family: IpFamily,
    pub prefix: u32,
    pub hostname: Option<String>,
    pub client_id: Option<String>,
    /// The DHCPv6 identity association id.
    pub iaid: Option<String>,
    /// The host interface the lease was handed out on.
    pub interface: String,
    /// Seconds since the epoch; `None` for a lease that never expires.
    pub expires_at_s: Option<i64>,
}
