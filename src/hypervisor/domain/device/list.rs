//! A domain's disks and interfaces, running or as defined.

use virt::{connect::Connect, domain::Domain, sys};

use super::xml;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry, domain::libvirt},
    model::{Devices, DomainRef},
};

const NAME: &str = "list devices";

/// Lists a domain's disks and interfaces: of the running domain, or of its
/// persistent definition when `inactive` (or when it is not running).
#[derive(Debug, Clone)]
pub struct ListDevices {
    pub domain: DomainRef,
    pub inactive: bool,
}

impl Operation for ListDevices {
    type Output = Devices;
    const NAME: &'static str = NAME;
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        read(&libvirt::lookup(conn, &self.domain)?, self.inactive)
    }
}

/// The disks and interfaces of `dom`: running, or as defined when `inactive`.
pub(in crate::hypervisor::domain) fn read(
    dom: &Domain,
    inactive: bool,
) -> Result<Devices, HypervisorError> {
    let flags = if inactive {
        sys::VIR_DOMAIN_XML_INACTIVE
    } else {
        0
    };
    let domain_xml = dom
        .xml_desc(flags)
        .map_err(|e| HypervisorError::from_virt(NAME, &e))?;
    parse(&domain_xml)
}

/// The disks and interfaces in a domain's XML.
pub(in crate::hypervisor::domain) fn parse(domain_xml: &str) -> Result<Devices, HypervisorError> {
    xml::devices(domain_xml)
        .map_err(|e| HypervisorError::internal(NAME, format!("unreadable domain XML: {e}")))
}
