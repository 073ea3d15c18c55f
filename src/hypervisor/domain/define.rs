//! Defining and undefining domains.

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{DomainRef, DomainSummary},
};

/// Defines a persistent domain from libvirt XML (libvirt's message for bad XML).
#[derive(Debug, Clone)]
pub struct DefineDomain {
    pub xml: String,
}

impl Operation for DefineDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "define domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::EnabledHost;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::define(conn, &self.xml)
    }
}

/// Removes a domain's persistent definition.
#[derive(Debug, Clone)]
pub struct UndefineDomain(pub DomainRef);

impl Operation for UndefineDomain {
    type Output = ();
    const NAME: &'static str = "undefine domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::undefine(conn, &self.0)
    }
}
