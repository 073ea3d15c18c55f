//! Whether a network starts with the host's libvirt (its autostart flag).

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{NetworkInfo, NetworkRef},
};

/// Sets a network's autostart flag; the network afterwards.
#[derive(Debug, Clone)]
pub struct SetNetworkAutostart {
    pub network: NetworkRef,
    pub autostart: bool,
}

impl Operation for SetNetworkAutostart {
    type Output = NetworkInfo;
    const NAME: &'static str = "set network autostart";
    // Setting a flag to a value twice is setting it once.
    const RETRY: Retry = Retry::Safe;
    // It changes what happens at the next boot, not the load now.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let net = libvirt::lookup(conn, &self.network)?;
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        if !net.is_persistent().map_err(fail)? {
            // libvirt's network driver refuses it, its test driver accepts it:
            // clients need one answer.
            return Err(HypervisorError::FailedPrecondition {
                operation: Self::NAME,
                message: format!(
                    "network {} is transient: only a defined (persistent) network can start with the host",
                    self.network
                ),
            });
        }
        net.set_autostart(self.autostart).map_err(fail)?;
        libvirt::describe(&net)
    }
}
