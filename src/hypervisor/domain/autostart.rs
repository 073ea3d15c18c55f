//! Whether a domain starts with the host's libvirt (its autostart flag).

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{DomainRef, DomainSummary},
};

/// Sets a domain's autostart flag; the domain afterwards.
#[derive(Debug, Clone)]
pub struct SetDomainAutostart {
    pub domain: DomainRef,
    pub autostart: bool,
}

impl Operation for SetDomainAutostart {
    type Output = DomainSummary;
    const NAME: &'static str = "set domain autostart";
    // Setting a flag to a value twice is setting it once.
    const RETRY: Retry = Retry::Safe;
    // It changes what happens at the next boot, not the load now.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::set_autostart(conn, &self.domain, self.autostart)
    }
}
