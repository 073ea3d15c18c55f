//! Reading domains: the listing, one domain, its XML.

use virt::connect::Connect;

use super::libvirt::{self, XmlOptions};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{DomainRef, DomainSummary},
};

/// Every domain on the host, ordered by name.
#[derive(Debug, Clone, Copy)]
pub struct ListDomains;

impl Operation for ListDomains {
    type Output = Vec<DomainSummary>;
    const NAME: &'static str = "list domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::list_all(conn)
    }
}

/// One domain.
#[derive(Debug, Clone)]
pub struct GetDomain(pub DomainRef);

impl Operation for GetDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "get domain";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::summarize(&libvirt::lookup(conn, &self.0)?)
    }
}

/// A domain's XML description.
#[derive(Debug, Clone)]
pub struct GetDomainXml {
    pub domain: DomainRef,
    pub options: XmlOptions,
}

impl Operation for GetDomainXml {
    type Output = String;
    const NAME: &'static str = "get domain XML";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::xml(conn, &self.domain, self.options)
    }
}
