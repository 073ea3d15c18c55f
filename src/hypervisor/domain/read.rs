//! Reading domains: the listing, one domain, its XML.

use virt::connect::Connect;

use super::{
    handle::{standing, state_and_xml},
    libvirt::{self, XmlOptions},
    xml_summary,
};
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

/// One domain, found by name or UUID: four or five round trips (lookup, state, XML,
/// persistence, autostart, and the managed save image of one that is off).
#[derive(Debug, Clone)]
pub struct GetDomain(pub DomainRef);

impl Operation for GetDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "get domain";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.0)?;
        let read = || {
            let (state, domain_xml) = state_and_xml(&dom)?;
            let standing = standing(&dom, state)?;
            xml_summary::summary(&domain_xml, state, standing)
        };
        read().map_err(|e| match e {
            HypervisorError::DomainGone { .. } => HypervisorError::DomainNotFound {
                domain: self.0.clone(),
            },
            other => other,
        })
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
