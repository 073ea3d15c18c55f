//! Reading networks: the listing and one network.

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{NetworkInfo, NetworkRef},
};

/// Every network on the host, active and inactive, ordered by name.
#[derive(Debug, Clone, Copy)]
pub struct ListNetworks;

impl Operation for ListNetworks {
    type Output = Vec<NetworkInfo>;
    const NAME: &'static str = "list networks";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let networks = conn
            .list_all_networks(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        let mut infos = Vec::with_capacity(networks.len());
        for net in &networks {
            match libvirt::describe(net) {
                Ok(info) => infos.push(info),
                // Undefined between the listing and the read: no longer there.
                Err(HypervisorError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }
}

/// One network.
#[derive(Debug, Clone)]
pub struct GetNetwork(pub NetworkRef);

impl Operation for GetNetwork {
    type Output = NetworkInfo;
    const NAME: &'static str = "get network";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::describe(&libvirt::lookup(conn, &self.0)?)
    }
}
