//! The libvirt calls every network operation shares: finding a network, describing
//! it, and refusing a change its state does not allow.
//!
//! Everything here is blocking and runs inside [`crate::hypervisor::Hypervisor::call`].

use virt::{connect::Connect, network::Network};

use super::network_xml::{self, Definition};
use crate::{
    hypervisor::{HypervisorError, Missing},
    model::{NetworkInfo, NetworkRef},
};

/// Finds a network; a UUID-shaped reference falls back to a name lookup.
pub(super) fn lookup(conn: &Connect, network: &NetworkRef) -> Result<Network, HypervisorError> {
    let found = match network {
        NetworkRef::Uuid(uuid) => conn
            .lookup_network_by_uuid_string(uuid)
            .or_else(|_| conn.lookup_network_by_name(uuid)),
        NetworkRef::Name(name) => conn.lookup_network_by_name(name),
    };
    found.map_err(
        |e| match HypervisorError::from_virt("look up network", &e) {
            HypervisorError::NotFound { operation, .. } => not_found(operation, network),
            other => other,
        },
    )
}

/// The error for a network that does not exist.
pub(super) fn not_found(operation: &'static str, network: &NetworkRef) -> HypervisorError {
    HypervisorError::NotFound {
        operation,
        missing: Missing::Network(network.to_string()),
        message: format!("network {network} not found: no network has this UUID or name"),
    }
}

/// A network's description: its XML (the live one while it runs) and its flags.
pub(super) fn describe(net: &Network) -> Result<NetworkInfo, HypervisorError> {
    let fail = |op| move |e: virt::error::Error| HypervisorError::from_virt(op, &e);
    let xml = net.xml_desc(0).map_err(fail("read network XML"))?;
    let Definition {
        name,
        uuid,
        bridge,
        forward,
        addresses,
    } = network_xml::parse(&xml)?;
    Ok(NetworkInfo {
        uuid,
        name,
        bridge,
        forward,
        active: net.is_active().map_err(fail("read network state"))?,
        persistent: net
            .is_persistent()
            .map_err(fail("read network persistence"))?,
        autostart: net.autostart().map_err(fail("read network autostart"))?,
        addresses,
    })
}

/// Refuses a change when the network is not (`want_active`) or is active, saying
/// so. Drivers differ here (the test driver "stops" an inactive network without a
/// word); clients need one answer.
pub(super) fn require_active(
    net: &Network,
    operation: &'static str,
    want_active: bool,
) -> Result<(), HypervisorError> {
    let active = net
        .is_active()
        .map_err(|e| HypervisorError::from_virt(operation, &e))?;
    if active == want_active {
        return Ok(());
    }
    let name = net.name().unwrap_or_default();
    let message = if active {
        format!("network {name:?} is already active")
    } else {
        format!("network {name:?} is not active")
    };
    Err(HypervisorError::FailedPrecondition { operation, message })
}
