//! Starting and stopping networks.

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{NetworkInfo, NetworkRef},
};

/// Starts an inactive network; the network afterwards.
#[derive(Debug, Clone)]
pub struct StartNetwork(pub NetworkRef);

impl Operation for StartNetwork {
    type Output = NetworkInfo;
    const NAME: &'static str = "start network";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // A bridge and a DHCP server are no guest load (see DefineNetwork).
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let net = libvirt::lookup(conn, &self.0)?;
        libvirt::require_active(&net, Self::NAME, false)?;
        net.create()
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        libvirt::describe(&net)
    }
}

/// Stops an active network (`virNetworkDestroy`); the network afterwards.
#[derive(Debug, Clone)]
pub struct StopNetwork(pub NetworkRef);

impl Operation for StopNetwork {
    type Output = NetworkInfo;
    const NAME: &'static str = "stop network";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let net = libvirt::lookup(conn, &self.0)?;
        libvirt::require_active(&net, Self::NAME, true)?;
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        // A transient network vanishes when stopped: what it was is read first.
        let vanishing = if net.is_persistent().map_err(fail)? {
            None
        } else {
            Some(libvirt::describe(&net)?)
        };
        net.destroy().map_err(fail)?;
        match vanishing {
            Some(info) => Ok(NetworkInfo {
                active: false,
                autostart: false,
                ..info
            }),
            None => libvirt::describe(&net),
        }
    }
}
