//! What a guest says about itself (through its agent) and the addresses it has.

/// Where a guest's interface addresses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    /// The DHCP leases of libvirt's own networks.
    Lease,
    /// The guest agent.
    Agent,
    /// The host's ARP table.
    Arp,
}

/// A guest's view of itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestInfo {
    pub interfaces: Vec<GuestInterface>,
    pub hostname: String,
    pub os: Option<GuestOs>,
    pub timezone: Option<GuestTimezone>,
    pub users: Vec<GuestUser>,
    pub filesystems: Vec<GuestFilesystem>,
    /// What the hypervisor driver cannot report, and why.
    pub unsupported: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestInterface {
    pub name: String,
    pub mac: String,
    pub addresses: Vec<GuestAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAddress {
    pub address: String,
    pub prefix: u32,
    pub ipv6: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestOs {
    pub id: String,
    pub name: String,
    pub pretty_name: String,
    pub version: String,
    pub version_id: String,
    pub kernel_release: String,
    pub kernel_version: String,
    pub machine: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestTimezone {
    pub name: String,
    /// Seconds east of UTC.
    pub offset_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestUser {
    pub name: String,
    pub domain: String,
    /// Milliseconds since the epoch.
    pub login_time_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFilesystem {
    pub mountpoint: String,
    pub name: String,
    pub fstype: String,
    pub total_bytes: u64,
    pub used_bytes: u64,
}
